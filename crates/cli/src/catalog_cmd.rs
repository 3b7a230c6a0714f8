//! `switchyard catalog list|show|cost`: the price catalog, and what a request would cost.

use crate::ConfigArg;
use crate::table;
use std::process::ExitCode;
use switchyard_catalog::{Catalog, ModelEntry, ModelKind};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Every model with its current prices (USD per million tokens).
    List {
        #[command(flatten)]
        config: ConfigArg,
        /// Only this provider's models.
        #[arg(long)]
        provider: Option<String>,
    },
    /// Everything known about one model: prices over time, capabilities, lifecycle.
    Show {
        /// Model id or alias, optionally as provider/model.
        model: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// What one request with these tokens costs, line by line, without sending it.
    Cost(crate::catalog_cost::Args),
}

pub(crate) fn load(config: &ConfigArg) -> anyhow::Result<Catalog> {
    let c = config.load()?;
    Ok(Catalog::load(&c.catalog.files, &c.catalog.litellm_files)?)
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::List { config, provider } => {
            let cat = load(&config)?;
            let rows: Vec<Vec<String>> = cat
                .models()
                .iter()
                .filter(|m| provider.as_ref().is_none_or(|p| &m.provider == p))
                .map(|m| {
                    let p = m.current_price();
                    let opt = |x: Option<switchyard_primitives::Money>| {
                        x.map_or("-".into(), |v| v.to_string())
                    };
                    vec![
                        m.provider.clone(),
                        m.id.clone(),
                        p.input.to_string(),
                        opt(p.cached_input),
                        p.output.to_string(),
                        table::count(m.context_window),
                        if m.open_weights {
                            "open".into()
                        } else {
                            String::new()
                        },
                        lifecycle(m),
                    ]
                })
                .collect();
            print!(
                "{}",
                table::render(
                    &[
                        "provider",
                        "model",
                        "input",
                        "cached",
                        "output",
                        "context",
                        "weights",
                        "lifecycle"
                    ],
                    &rows,
                    &[2, 3, 4, 5]
                )
            );
            println!(
                "\n{} models · catalog {} · prices in USD per 1M tokens",
                rows.len(),
                cat.version()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Cost(a) => crate::catalog_cost::run(a),
        Command::Show { model, config } => {
            let cat = load(&config)?;
            let found: Vec<&ModelEntry> = match model.split_once('/') {
                Some((p, m)) if cat.get(p, m).is_some() => cat.get(p, m).into_iter().collect(),
                _ => cat.find(&model),
            };
            if found.is_empty() {
                anyhow::bail!(
                    "no model {model:?} in the catalog; `switchyard catalog list` shows every model"
                );
            }
            for m in found {
                show(m);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn lifecycle(m: &ModelEntry) -> String {
    match (m.retirement, &m.successor) {
        (Some(r), Some(s)) => format!("retires {r} → {s}"),
        (Some(r), None) => format!("retires {r}"),
        _ => String::new(),
    }
}

fn show(m: &ModelEntry) {
    let yn = |b: bool| if b { "yes" } else { "no" };
    let d = |x: Option<chrono::NaiveDate>| x.map_or("-".to_string(), |d| d.to_string());
    println!("{}", m.key());
    println!("  creator        {} (family {})", m.creator, m.family);
    println!(
        "  kind           {}",
        if m.kind == ModelKind::Embedding {
            "embedding"
        } else {
            "chat"
        }
    );
    if !m.aliases.is_empty() {
        println!("  aliases        {}", m.aliases.join(", "));
    }
    println!(
        "  context        {} tokens, max output {}",
        table::count(m.context_window),
        m.max_output.map_or("-".into(), table::count)
    );
    let c = &m.capabilities;
    println!(
        "  capabilities   tools {} · vision {} · json schema {} · reasoning {} · prompt caching {}",
        yn(c.tools),
        yn(c.vision),
        yn(c.json_schema),
        yn(c.reasoning),
        yn(c.prompt_caching)
    );
    println!(
        "  weights        {} ({})",
        if m.open_weights { "open" } else { "closed" },
        m.license
    );
    println!(
        "  lifecycle      released {} · deprecation announced {} · retires {} · successor {}",
        d(m.released),
        d(m.deprecation_announced),
        d(m.retirement),
        m.successor.as_deref().unwrap_or("-")
    );
    println!("  source         {} (as of {})", m.source, d(m.as_of));
    println!("  prices (USD per 1M tokens)");
    for p in &m.prices {
        let opt = |x: Option<switchyard_primitives::Money>| x.map_or("-".into(), |v| v.to_string());
        println!(
            "    from {}: input {} · cached input {} · cache write {} (1h {}) · output {} · reasoning {} · batch discount {}",
            p.effective_from,
            p.input,
            opt(p.cached_input),
            opt(p.cache_write),
            opt(p.cache_write_1h),
            p.output,
            opt(p.reasoning),
            p.batch_discount.map_or("-".into(), |b| format!(
                "{}%",
                (b * rust_decimal::Decimal::from(100)).normalize()
            )),
        );
        for t in &p.tiers {
            println!(
                "      above {} input tokens: input {} · cached {} · output {}",
                table::count(t.above_input_tokens),
                t.input,
                opt(t.cached_input),
                opt(t.output)
            );
        }
    }
    println!();
}
