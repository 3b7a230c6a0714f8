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
    // Built inside the runtime: `[fleet]` and a Redis `[cache]` start their tasks on it.
    let rt = crate::runtime()?;
    let built = {
        let _in_runtime = rt.enter();
        switchyard_evaluation::build(&config, &crate::env)?
    };
    let gateway = built.gateway;
    let gateway_for_eval = gateway.clone();
    if let Some(path) = &args.config.config {
        let listen = config.server.listen;
        gateway.set_reload_source(
            path.clone(),
            std::sync::Arc::new(crate::env),
            // `--listen` keeps applying: a reload must not report it as a change.
            Some(std::sync::Arc::new(
                move |c: &mut switchyard_gateway::Config| {
                    c.server.listen = listen;
                },
            )),
        );
    }
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
        max_connections = config.server.max_connections,
        header_timeout_ms = config.server.header_timeout.as_millis() as u64,
        body_timeout_ms = config.server.body_timeout.as_millis() as u64,
        idle_timeout_ms = config.server.idle_timeout.as_millis() as u64,
        "gateway assembled"
    );
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
        let addr = listener.local_addr()?;
        println!("switchyard listening on http://{addr}");
        std::io::stdout().flush()?;
        tokio::spawn(reload_on_sighup(gateway.clone()));
        switchyard_server::run(
            listener,
            gateway,
            crate::shutdown_signal(),
            config.server.shutdown_grace,
        )
        .await?;
        anyhow::Ok(())
    })?;
    // Every record was handed to the recorder (and its taps) before `run` returned; the
    // tracer's last batch goes out while the runtime its HTTP client uses still runs.
    if let Some(traces) = gateway_for_eval.traces() {
        traces.flush(std::time::Duration::from_secs(5));
    }
    drop(rt);
    gateway_for_eval.shutdown_eval();
    let stats = built.recorder.shutdown();
    tracing::info!(written = stats.written, "ledger flushed; stopped");
    Ok(ExitCode::SUCCESS)
}

/// Reloads the config on every SIGHUP; a bad file is logged and the old config stays.
async fn reload_on_sighup(gateway: Gateway) {
    #[cfg(unix)]
    {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; reload with POST /admin/reload instead");
            return;
        };
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the configuration");
            // File reading and assembly block; keep them off the request threads.
            let gw = gateway.clone();
            match tokio::task::spawn_blocking(move || gw.reload_from_source()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "reload rejected; the previous configuration stays in force");
                }
                Err(e) => tracing::error!(error = %e, "reload task failed"),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = gateway;
}
