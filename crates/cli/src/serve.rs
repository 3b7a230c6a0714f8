//! `switchyard serve`.

use crate::ConfigArg;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use switchyard_gateway::Gateway;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
    /// Address to listen on (overrides [server] listen).
    #[arg(long)]
    listen: Option<SocketAddr>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = args.config.load()?;
    if let Some(l) = args.listen {
        config.server.listen = l;
    }
    let built = Gateway::build(&config, &crate::env)?;
    let gateway = built.gateway;
    if config.providers.is_empty() {
        tracing::warn!(
            "no providers configured or detected; set e.g. OPENAI_API_KEY, or pass --config"
        );
    }
    tracing::info!(
        providers = config.providers.len(),
        routes = gateway.route_names().len(),
        ledger = %config.ledger.path.display(),
        catalog = gateway.catalog().version(),
        "gateway assembled"
    );
    let rt = crate::runtime()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
        let addr = listener.local_addr()?;
        println!("switchyard listening on http://{addr}");
        std::io::stdout().flush()?;
        switchyard_server::run(
            listener,
            gateway,
            crate::shutdown_signal(),
            config.server.shutdown_grace,
        )
        .await?;
        anyhow::Ok(())
    })?;
    drop(rt);
    let stats = built.recorder.shutdown();
    tracing::info!(written = stats.written, "ledger flushed; stopped");
    Ok(ExitCode::SUCCESS)
}
