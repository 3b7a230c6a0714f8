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
            let mut problems: Vec<String> = c
                .missing_env(&crate::env)
                .iter()
                .map(|e| e.to_string())
                .collect();
            if let Err(e) =
                switchyard_catalog::Catalog::load(&c.catalog.files, &c.catalog.litellm_files)
            {
                problems.push(format!("catalog: {e}"));
            }
            if problems.is_empty() {
                println!(
                    "config OK: {} provider(s), {} route(s), ledger {}",
                    c.providers.len(),
                    c.routes.len(),
                    c.ledger.path.display()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("{} configuration error(s):", problems.len());
                for p in problems {
                    eprintln!("  - {p}");
                }
                Ok(ExitCode::from(2))
            }
        }
    }
}
