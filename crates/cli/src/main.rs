//! `switchyard`: the one binary. Parses arguments (clap), loads configuration, and runs a
//! command. anyhow lives here only; every layer below returns typed errors.

mod caching_table;
mod cascade_report;
mod catalog_cmd;
mod catalog_cost;
mod config_cmd;
mod contract_cmd;
mod demo;
mod demo_batch;
mod demo_traffic;
mod eval_cmd;
mod eval_json;
mod history;
mod keys_cmd;
mod ledger_cmd;
mod ledger_copy;
mod savings_table;
mod scenario_cmd;
mod serve;
mod sim_cmd;
mod strategy_cmd;
mod table;
mod table_report;

use clap::{Parser, Subcommand};

/// mimalloc: the request path allocates many small, short-lived buffers; measured faster than
/// glibc malloc for this pattern (docs/benchmarks.md). Built without transparent huge pages
/// (the `no_thp` feature in the workspace Cargo.toml), which cut the resident set by a quarter.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "switchyard",
    version,
    about = "LLM gateway, cost ledger and vendor-strategy engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the OpenAI-compatible gateway.
    Serve(serve::Args),
    /// Serve simulated providers (OpenAI wire format) on loopback.
    Sim(sim_cmd::Args),
    /// Run simulated providers, a gateway and realistic traffic; print the spend.
    Demo(demo::Args),
    /// Inspect the price catalog.
    #[command(subcommand)]
    Catalog(catalog_cmd::Command),
    /// Summarise or export the ledger.
    #[command(subcommand)]
    Ledger(ledger_cmd::Command),
    /// Check a configuration file.
    #[command(subcommand)]
    Config(config_cmd::Command),
    /// Vendor strategy: spend, scenarios, lock-in, deprecations, the report.
    #[command(subcommand)]
    Strategy(strategy_cmd::Command),
    /// Virtual keys: create, list, show, update, rotate, revoke.
    #[command(subcommand)]
    Keys(keys_cmd::Command),
    /// Evaluation: datasets, replay runs with a verdict, migration readiness.
    #[command(subcommand)]
    Eval(eval_cmd::Command),
}

/// `--config FILE`, shared by the commands that read configuration.
#[derive(clap::Args, Clone, Debug)]
pub struct ConfigArg {
    /// Configuration file (TOML). Without it, embedded defaults apply.
    #[arg(long, short = 'c', env = "SWITCHYARD_CONFIG")]
    pub config: Option<PathBuf>,
}

impl ConfigArg {
    /// The validated configuration, or embedded defaults when no file is named.
    pub fn load(&self) -> anyhow::Result<switchyard_gateway::Config> {
        match &self.config {
            None => Ok(switchyard_gateway::Config::from_env(&env)),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read config file {}: {e}", path.display())
                })?;
                switchyard_gateway::Config::from_toml(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            }
        }
    }
}

/// The process environment, as the gateway's key lookup.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Serve(a) => serve::run(a),
        Command::Sim(a) => sim_cmd::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Catalog(c) => catalog_cmd::run(c),
        Command::Ledger(c) => ledger_cmd::run(c),
        Command::Config(c) => config_cmd::run(c),
        Command::Strategy(c) => strategy_cmd::run(c),
        Command::Keys(c) => keys_cmd::run(c),
        Command::Eval(c) => eval_cmd::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A reader that stops early (`switchyard strategy spend | head`) closes the pipe, and Rust
/// ignores SIGPIPE, so the next `println!` panics. Exit quietly instead, with the status a
/// process killed by SIGPIPE gets (128 + 13), as shell tools do; other panics are untouched.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map_or("", String::as_str);
        if msg.starts_with("failed printing to stdout") && msg.contains("os error 32") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// A multi-threaded runtime sized to the machine.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("stop requested");
}
