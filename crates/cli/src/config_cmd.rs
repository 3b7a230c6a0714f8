//! `switchyard config check|example`.

use crate::ConfigArg;
use std::process::ExitCode;

pub const EXAMPLE: &str = include_str!("../../../switchyard.example.toml");

#[derive(clap::Subcommand)]
pub enum Command {
    /// Validate a config file and report every error at once, each with its key path.
    Check {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Print a commented example configuration.
    Example,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Example => {
            print!("{EXAMPLE}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { config } => {
            let c = match config.load() {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            if let Err(e) = crate::strategy_cmd::effort_model(&c) {
                eprintln!("1 configuration error(s):\n  - {e}");
                return Ok(ExitCode::from(2));
            }
            match switchyard_evaluation::check(&c, &crate::env) {
                Ok(routes) => {
                    println!(
                        "config OK: {} provider(s), {} route(s), ledger {}",
                        c.providers.len(),
                        routes,
                        c.ledger.path.display()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}
