//! `switchyard demo`: simulated providers + a gateway on loopback + a realistic traffic mix,
//! then the ledger's spend per workload and provider. Leaves the ledger in place.

use crate::ledger_cmd::render_summary;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use switchyard_gateway::Config;
use switchyard_ledger::{Dimension, LedgerStore, SqliteStore, SummaryQuery};
use switchyard_providers::HttpClient;
use switchyard_sim::SimConfig;

const DEMO_CONFIG: &str = include_str!("../demo/switchyard.toml");
const DEMO_SIM: &str = include_str!("../demo/sim.toml");

#[derive(clap::Args)]
pub struct Args {
    /// How many requests to send.
    #[arg(long, default_value_t = 600)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Ledger file to write (kept afterwards for `ledger` and `strategy` commands).
    #[arg(long, default_value = "./switchyard.db")]
    ledger: PathBuf,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(demo(args))
}

async fn demo(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let (stop_sim, sim_stopped) = tokio::sync::oneshot::channel::<()>();
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim_url = format!("http://{}", sim_listener.local_addr()?);
    let sim_config = SimConfig::from_toml(DEMO_SIM).map_err(anyhow::Error::msg)?;
    let sim = tokio::spawn(switchyard_sim::run(sim_listener, sim_config, async {
        let _ = sim_stopped.await;
    }));

    let mut config = Config::from_toml(&DEMO_CONFIG.replace("SIM_URL", &sim_url))
        .map_err(|e| anyhow::anyhow!("bundled demo config: {e}"))?;
    config.ledger.path = args.ledger.clone();
    let built = switchyard_evaluation::build(&config, &|k| {
        (k == "SWITCHYARD_DEMO_KEY").then(|| "demo-key".to_string())
    })?;
    let gw_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", gw_listener.local_addr()?);
    let (stop_gw, gw_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(switchyard_server::run(
        gw_listener,
        built.gateway.clone(),
        async {
            let _ = gw_stopped.await;
        },
        Duration::from_secs(10),
    ));
    eprintln!("simulated providers on {sim_url}, gateway on {base}");

    let client =
        switchyard_providers::HttpClient::new(&Default::default()).map_err(anyhow::Error::msg)?;
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(args.requests as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} requests  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut ok = 0usize;
    let mut failed = 0usize;
    let mut results = futures_util::stream::iter((0..args.requests).map(|i| {
        let client = client.clone();
        let base = base.clone();
        async move { send(&client, &base, i).await }
    }))
    .buffer_unordered(args.concurrency.max(1));
    while let Some(r) = results.next().await {
        match r {
            Ok(true) => ok += 1,
            _ => failed += 1,
        }
        bar.inc(1);
        bar.set_message(format!("{failed} failed"));
    }
    bar.finish_and_clear();
    // Shadow calls run after each answer; let the last ones finish before stopping.
    let deadline = Instant::now() + Duration::from_secs(10);
    while built.gateway.shadow_in_flight() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let evaluation = built.gateway.eval_counters();
    built.gateway.shutdown_eval();

    let _ = stop_gw.send(());
    server.await??;
    let stats = built.recorder.shutdown();
    let _ = stop_sim.send(());
    sim.await??;

    let mut store = SqliteStore::open_existing(&args.ledger)?;
    let today = chrono::Utc::now().date_naive();
    let history = crate::history::write(&mut store, &built.gateway.catalog(), today)?;
    println!(
        "\nSent {} requests in {:.1}s: {ok} succeeded, {failed} failed after fallbacks; {} ledger records written.",
        args.requests,
        started.elapsed().as_secs_f64(),
        stats.written
    );
    println!(
        "Also wrote the 90-day history the strategy commands read ({history} new daily records).\n"
    );
    println!("This run's spend:\n");
    for by in [Dimension::Workload, Dimension::Provider] {
        let rows = store.summary(&SummaryQuery {
            by,
            since: Some(today),
            include_shadow: false,
        })?;
        println!("{}", render_summary(by, &rows));
    }
    println!(
        "Ledger: {} ({} records). Next:",
        args.ledger.display(),
        store.count()?
    );
    let l = args.ledger.display();
    println!("  switchyard ledger summary --by model --ledger {l}");
    println!("  switchyard strategy spend --ledger {l}");
    println!("  switchyard strategy deprecations --ledger {l}");
    println!("  switchyard strategy report --format html -o strategy.html --ledger {l}");
    if let Some(e) = evaluation {
        let store = config.eval.store_path(&args.ledger);
        println!(
            "\nShadow traffic: {} extraction requests mirrored to gpt-6-luna (gpt-4o-mini's successor) and scored for valid JSON; evaluation spend is kept out of the figures above.",
            e["shadow_sent"]
        );
        for ev in switchyard_strategy::readiness::load_evidence(&store) {
            println!("  {} → {}: {}", ev.workload, ev.candidate, ev.describe());
        }
        println!(
            "  switchyard eval readiness --store {}      # and `strategy lockin` uses it",
            store.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

const TEAMS: &[&str] = &["payments", "growth", "platform", "support-ops"];
const TOPICS: &[&str] = &[
    "a late delivery",
    "a double charge",
    "password reset",
    "a damaged item",
    "an invoice copy",
    "changing plans",
];

/// One request of the mix; `true` when the gateway answered 2xx.
async fn send(client: &HttpClient, base: &str, i: usize) -> anyhow::Result<bool> {
    let (path, body) = request(i);
    let team = TEAMS[i % TEAMS.len()];
    let tags = format!("team={team},env=demo");
    // Reads the whole answer, streams included, as a client would.
    let resp = client
        .post_json(
            &format!("{base}{path}"),
            &[("x-switchyard-tags", &tags)],
            body.to_string(),
        )
        .await
        .map_err(anyhow::Error::msg)?;
    Ok((200..300).contains(&resp.status))
}

fn long_text(seed: usize, sentences: usize) -> String {
    let parts = [
        "The quarterly review found that onboarding time fell after the new checklist shipped.",
        "Customers on the enterprise plan asked for clearer invoices and faster refunds.",
        "The migration moved three services to the new cluster without downtime.",
        "Latency at the 99th percentile rose during the holiday peak and then recovered.",
        "Support volume doubled in the week of the pricing change.",
        "The team agreed to retire the legacy export job by the end of the quarter.",
    ];
    (0..sentences)
        .map(|k| parts[(seed + k * 7) % parts.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// The traffic mix: support chat, code review, summarisation, classification, extraction,
/// embeddings — each with the shape of real traffic for that workload.
fn request(i: usize) -> (&'static str, Value) {
    let topic = TOPICS[i % TOPICS.len()];
    match i % 20 {
        0..=6 => {
            let mut body = json!({
                "model": "support-chat",
                "messages": [
                    {"role": "system", "content": "You are a friendly support agent for an online store. Be concise."},
                    {"role": "user", "content": format!("Hi, I need help with {topic}. Order #{}.", 10_000 + i)},
                    {"role": "assistant", "content": "Sorry to hear that. Could you tell me more?"},
                    {"role": "user", "content": format!("It is about {topic} and I want it fixed today.")}
                ],
                "max_tokens": 200
            });
            if i % 3 == 0 {
                body["stream"] = json!(true);
                body["stream_options"] = json!({"include_usage": true});
            }
            if i % 5 == 1 {
                body["tools"] = json!([{"type": "function", "function": {"name": "get_order_status", "description": "Look up an order",
                    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]);
            }
            ("/v1/chat/completions", body)
        }
        7..=9 => (
            "/v1/chat/completions",
            json!({
                "model": "code-review",
                "messages": [
                    {"role": "system", "content": "Review the diff. Report bugs, risks and style issues."},
                    {"role": "user", "content": format!("diff --git a/src/billing.rs b/src/billing.rs\n{}", "+    let total = items.iter().map(|i| i.price * i.qty).sum::<u64>();\n".repeat(20 + i % 60))}
                ],
                "response_format": {"type": "json_schema", "json_schema": {"name": "review", "schema": {"type": "object",
                    "properties": {"verdict": {"enum": ["approve", "request_changes"]}, "comments": {"type": "array", "items": {"type": "string"}}},
                    "required": ["verdict", "comments"]}}},
                "max_completion_tokens": 300
            }),
        ),
        10..=13 => (
            "/v1/chat/completions",
            json!({
                "model": "summarize",
                "stream": i % 2 == 0,
                "messages": [
                    {"role": "system", "content": "Summarise the document in three bullet points."},
                    {"role": "user", "content": long_text(i, 20 + i % 80)}
                ],
                "max_tokens": 180
            }),
        ),
        14..=16 => (
            "/v1/chat/completions",
            json!({
                "model": "classify",
                "messages": [
                    {"role": "system", "content": "Classify the ticket as billing, shipping, account or other. Answer with one word."},
                    {"role": "user", "content": format!("Ticket: I have a question about {topic}.")}
                ],
                "max_tokens": 4,
                "temperature": 0
            }),
        ),
        17..=18 => (
            "/v1/chat/completions",
            json!({
                "model": "extract",
                "messages": [{"role": "user", "content": format!("Extract the customer name and order id as JSON: 'Jane Doe wrote about order {} and {topic}.'", 20_000 + i)}],
                "response_format": {"type": "json_object"},
                "max_tokens": 60
            }),
        ),
        _ => (
            "/v1/embeddings",
            json!({"model": "embed", "input": [long_text(i, 3), long_text(i + 1, 2), format!("{topic}"), long_text(i + 2, 4)]}),
        ),
    }
}
