//! The batch API and evaluation capture on a PostgreSQL ledger: two gateways sharing one
//! database split a batch and run each line exactly once, and captures land in the ledger's
//! database (no SQLite file beside the process).
//!
//! Uses the PostgreSQL at 127.0.0.1:5432 (database `test`; `SWITCHYARD_TEST_PG` overrides),
//! in a schema of its own dropped at the end; skips with a message when there is none, except
//! under `CI`, where that fails.
#![expect(clippy::unwrap_used, reason = "test setup")]

mod common;

use common::batch::{line, lines_of, submit, wait};
use common::{Harness, MASTER, chat, start_on_ledger, temp_dir};
use std::collections::BTreeSet;
use std::path::PathBuf;
use switchyard_evalstore::CaptureQuery;
use switchyard_ledger::ScratchSchema;

/// A few ms per answer, so the first gateway is still busy when the second starts.
const SIM: &str = "seed = 3\n[defaults]\nttft_ms = 4\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 50
[batch]
concurrency = 2
poll_interval_ms = 20
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
price_provider = "openai"
[[routes]]
name = "chat"
workload = "support"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
[routes.capture]
rate = 1.0
"#;

fn schema() -> Option<ScratchSchema> {
    let admin = std::env::var("SWITCHYARD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match ScratchSchema::create(&admin, "sy_gwb") {
        Ok(s) => Some(s),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL must be reachable at {admin} in CI: {e}"
            );
            eprintln!("skipping: no PostgreSQL at {admin}: {e}");
            None
        }
    }
}

async fn sim() -> (String, tokio::sync::oneshot::Sender<()>) {
    sim_of(SIM).await
}

async fn sim_of(toml: &str) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = switchyard_sim::SimConfig::from_toml(toml).unwrap();
    tokio::spawn(switchyard_sim::run(listener, config, async {
        let _ = stopped.await;
    }));
    (url, stop)
}

async fn gateway(sim: &str, ledger: &str) -> Harness {
    let env = [("SWITCHYARD_MASTER_KEY", MASTER)];
    let place = (temp_dir(), PathBuf::from(ledger));
    start_on_ledger(sim.to_string(), None, GATEWAY, &env, place).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_on_one_postgres_ledger_run_each_batch_line_exactly_once() {
    let Some(schema) = schema() else { return };
    let (sim, stop_sim) = sim().await;
    let a = gateway(&sim, schema.url()).await;
    let n = 300;
    let lines: Vec<String> = (0..n)
        .map(|i| line(&format!("r{i}"), "chat", &format!("line {i}")))
        .collect();
    let id = submit(&a, Some(MASTER), &lines, "/v1/chat/completions").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A second replica on the same database resumes the unfinished batch at start and claims
    // the lines the first has not.
    let b = gateway(&sim, schema.url()).await;
    let done = wait(&b, Some(MASTER), &id, &["completed"]).await;
    assert_eq!(done["request_counts"]["completed"], n, "{done}");
    assert_eq!(done["request_counts"]["failed"], 0, "{done}");
    let out = lines_of(&a, Some(MASTER), &done["output_file_id"]).await;
    let ids: BTreeSet<String> = out
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!((out.len(), ids.len()), (n, n), "one answer per line");
    let served = a.sim_count("gpt-4o-mini").await;
    assert_eq!(served, n as u64, "the upstream saw each line once");
    b.finish().await;
    let records = a.finish().await;
    let batch: Vec<_> = records.iter().filter(|r| r.batch).collect();
    assert_eq!(batch.len(), n, "one ledger record per line");
    let _ = stop_sim.send(());
}

/// A cancel made through the replica that is not running the batch stops the one that is
/// within its lease tick (10 s), long before its claimed lines would have run out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_through_another_replica_stops_the_runner() {
    let Some(schema) = schema() else { return };
    // 250 ms a line, two at a time: 200 lines would take 25 s.
    let (sim, stop_sim) =
        sim_of("seed = 3\n[defaults]\nttft_ms = 250\ntokens_per_second = 0\n").await;
    let a = gateway(&sim, schema.url()).await;
    let n = 200;
    let lines: Vec<String> = (0..n)
        .map(|i| line(&format!("r{i}"), "chat", "slow"))
        .collect();
    let id = submit(&a, Some(MASTER), &lines, "/v1/chat/completions").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = gateway(&sim, schema.url()).await;
    let r = common::batch::call(
        &b,
        "POST",
        &format!("/v1/batches/{id}/cancel"),
        Some(MASTER),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let started = std::time::Instant::now();
    let mut done = serde_json::Value::Null;
    while started.elapsed() < std::time::Duration::from_secs(30) {
        done = common::batch::call(&a, "GET", &format!("/v1/batches/{id}"), Some(MASTER), None)
            .await
            .json();
        if done["status"] == "cancelled" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(done["status"], "cancelled", "{done}");
    let counts = &done["request_counts"];
    let completed = counts["completed"].as_u64().unwrap();
    assert!(completed < 150, "the runner stopped early: {done}");
    assert_eq!(
        completed + counts["failed"].as_u64().unwrap(),
        n as u64,
        "{done}"
    );
    // Every line is in one of the two files, and no cancelled line reached the upstream.
    assert_eq!(a.sim_count("gpt-4o-mini").await, completed);
    let errors = lines_of(&a, Some(MASTER), &done["error_file_id"]).await;
    assert!(
        errors
            .iter()
            .all(|l| l["error"]["code"] == "batch_cancelled"),
        "{errors:?}"
    );
    b.finish().await;
    a.finish().await;
    let _ = stop_sim.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_land_in_the_postgres_ledger_database() {
    let Some(schema) = schema() else { return };
    let (sim, stop_sim) = sim().await;
    let h = gateway(&sim, schema.url()).await;
    assert_eq!(
        h.gateway.eval_store_path(),
        PathBuf::from(schema.url()),
        "the eval store defaults to the ledger's database"
    );
    let body = chat("chat", "hello").to_string().into_bytes();
    let auth = format!("Bearer {MASTER}");
    let r = h
        .post_with("/v1/chat/completions", body, &[("authorization", &auth)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    h.gateway.flush_eval();
    let dir = h.dir.clone();
    h.finish().await;
    let store = switchyard_evalstore::open(&PathBuf::from(schema.url())).unwrap();
    let caps = store.captures(&CaptureQuery::default()).unwrap();
    assert_eq!(caps.len(), 1, "{caps:?}");
    assert_eq!(caps[0].workload.as_deref(), Some("support"));
    assert_eq!(caps[0].route, "chat");
    assert!(!dir.join("switchyard-eval.db").exists());
    assert!(!std::path::Path::new("switchyard-eval.db").exists());
    let _ = stop_sim.send(());
}
