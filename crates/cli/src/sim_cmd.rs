//! `switchyard sim`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_sim::SimConfig;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free one (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    /// Simulator config (TOML): latency model and faults per model.
    #[arg(long, short = 'c')]
    config: Option<PathBuf>,
    /// Zero latency (for benchmarks); configured faults still apply.
    #[arg(long)]
    fast: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = match &args.config {
        Some(p) => SimConfig::from_toml(
            &std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
        )
        .map_err(anyhow::Error::msg)?,
        None => SimConfig::default(),
    };
    if args.fast {
        config = config.fast();
    }
    crate::runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        println!(
            "switchyard sim listening on http://{}",
            listener.local_addr()?
        );
        std::io::stdout().flush()?;
        switchyard_sim::run(listener, config, crate::shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
