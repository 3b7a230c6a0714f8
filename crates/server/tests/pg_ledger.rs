//! The gateway on a PostgreSQL ledger, end to end: keys made through the admin API (async
//! handlers calling the PostgreSQL key store), a keyed request recorded with its key, and a
//! restarted gateway that finds the key, its spend and the records in the database.
//!
//! Uses the PostgreSQL at 127.0.0.1:5432 (database `test`; `SWITCHYARD_TEST_PG` overrides),
//! in a schema of its own dropped at the end; skips with a message when there is none, except
//! under `CI`, where that fails.

mod common;

use common::{MASTER, chat, start_on_ledger, temp_dir};
use serde_json::json;
use std::path::PathBuf;
use switchyard_ledger::ScratchSchema;

const SIM: &str = "seed = 3\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[providers.sim]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[[routes]]
name = "chat"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
"#;

fn schema() -> Option<ScratchSchema> {
    let admin = std::env::var("SWITCHYARD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match ScratchSchema::create(&admin, "sy_gw") {
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

#[expect(clippy::unwrap_used, reason = "test setup")]
async fn gateway(ledger: &str) -> common::Harness {
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = format!("http://{}", sim_listener.local_addr().unwrap());
    let (stop_sim, sim_stopped) = tokio::sync::oneshot::channel::<()>();
    let config = switchyard_sim::SimConfig::from_toml(SIM).unwrap();
    tokio::spawn(switchyard_sim::run(sim_listener, config, async {
        let _ = sim_stopped.await;
    }));
    let env = [("SWITCHYARD_MASTER_KEY", MASTER)];
    let place = (temp_dir(), PathBuf::from(ledger));
    start_on_ledger(sim, Some(stop_sim), GATEWAY, &env, place).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_records_and_spend_live_in_postgres_across_a_restart() {
    let Some(schema) = schema() else { return };
    let h = gateway(schema.url()).await;
    let secret = h
        .create_key(&json!({"team": "payments", "budgets": [{"period": "day", "limit_usd": "5"}]}))
        .await;
    let auth = format!("Bearer {secret}");
    let body = chat("chat", "hello").to_string().into_bytes();
    let r = h
        .post_with(
            "/v1/chat/completions",
            body.clone(),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let records = h.finish().await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].team.as_deref(), Some("payments"));
    let key_id = records[0].key_id.clone().unwrap();
    assert!(records[0].cost_usd.is_some_and(|c| !c.is_zero()));

    let cost1 = records[0].cost_usd.unwrap();

    // A second gateway on the same database: the key still authenticates, and its spend so
    // far is read back from the PostgreSQL rollup, to the cent.
    let h = gateway(schema.url()).await;
    let r = h
        .call(
            "GET",
            &format!("/admin/keys/{key_id}"),
            &[("authorization", &format!("Bearer {MASTER}"))],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let spent = r.json()["usage"]["budgets"][0]["spent_usd"].clone();
    let spent: rust_decimal::Decimal = spent.as_str().unwrap_or_default().parse().unwrap();
    assert_eq!(spent, cost1.decimal(), "{}", r.text());
    let r = h
        .post_with("/v1/chat/completions", body, &[("authorization", &auth)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let records = h.finish().await;
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|r| r.key_id.as_deref() == Some(key_id.as_str()))
    );
}

/// The strategy report on a PostgreSQL ledger: the spend it reads from the PostgreSQL rollup,
/// and the savings-by-lever section with every lever measured, as on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_strategy_report_on_postgres_has_the_spend_and_the_savings_ledger() {
    let Some(schema) = schema() else { return };
    let h = gateway(schema.url()).await;
    let secret = h.create_key(&json!({"team": "payments"})).await;
    let body = chat("chat", "hello").to_string().into_bytes();
    let auth = format!("Bearer {secret}");
    let r = h
        .post_with("/v1/chat/completions", body, &[("authorization", &auth)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let records = h.finish().await;
    assert_eq!(records.len(), 1);

    let h = gateway(schema.url()).await;
    let r = h
        .call(
            "GET",
            "/v1/strategy/report",
            &[("authorization", &format!("Bearer {MASTER}"))],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    let periods = report["levers"]["periods"].as_array().expect("levers");
    assert_eq!(periods.len(), 2, "{report}");
    let levers = periods[0]["savings"]["levers"].as_array().unwrap();
    assert_eq!(levers.len(), 6);
    assert!(levers.iter().all(|l| l["measured"] == true), "{report}");
    assert!(report["levers"]["on_the_table"].is_object(), "{report}");
    let spend = report.to_string();
    assert!(spend.contains("gpt-4o-mini"), "{spend}");
    h.finish().await;
}

/// The dashboard on a PostgreSQL ledger: the overview's spend and the recent requests come
/// from the PostgreSQL rollup and index, and a virtual key sees its own request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_reads_a_postgres_ledger() {
    let Some(schema) = schema() else { return };
    let h = gateway(schema.url()).await;
    let secret = h.create_key(&json!({"team": "payments"})).await;
    let auth = format!("Bearer {secret}");
    for text in ["one", "two"] {
        let body = chat("chat", text).to_string().into_bytes();
        let r = h
            .post_with("/v1/chat/completions", body, &[("authorization", &auth)])
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let records = h.finish().await;
    let spent: switchyard_primitives::Money = records.iter().filter_map(|r| r.cost_usd).sum();

    let h = gateway(schema.url()).await;
    let master = format!("Bearer {MASTER}");
    let get = |path: &'static str, key: String| {
        let h = &h;
        async move { h.call("GET", path, &[("authorization", &key)], None).await }
    };
    let o = get("/v1/dashboard/overview?by=team", master.clone()).await;
    assert_eq!(o.status, 200, "{}", o.text());
    let o = o.json();
    assert_eq!(o["requests"], 2);
    let shown: switchyard_primitives::Money = o["spend_today"].as_str().unwrap().parse().unwrap();
    assert_eq!(shown, spent.round_cents());
    assert_eq!(o["series"][0]["key"], "payments");
    assert_eq!(o["latency_24h"]["requests"], 2);
    let page = get("/v1/dashboard/requests?limit=1", auth.clone())
        .await
        .json();
    assert_eq!(page["rows"].as_array().unwrap().len(), 1);
    assert_eq!(
        page["rows"][0]["key_id"],
        records[0].key_id.clone().unwrap().as_str()
    );
    assert!(page["next"].is_string(), "{page}");
    h.finish().await;
}
