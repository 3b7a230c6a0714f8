//! The batch API end to end against the simulator: upload → create → poll → output and error
//! files, bad lines by line number, cancel, a restart mid-batch, ownership, upload limits, and
//! the ledger's `batch = true` rows.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a malformed answer should fail the test loudly"
)]

mod common;

use common::batch::{call, line, lines_of, submit, upload, wait};
use common::{Harness, MASTER, records, start_against, start_in, start_with};
use serde_json::{Value, json};
use std::time::Duration;

const SIM: &str = "seed = 3\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

/// Every answer takes 250 ms, so a test can act while a batch is running.
const SLOW_SIM: &str = "seed = 3\n[defaults]\nttft_ms = 250\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[server]
max_body_bytes = 2048
[ledger]
flush_interval_ms = 50
[batch]
max_file_bytes = 65536
concurrency = 1
poll_interval_ms = 20
# No batch API (an OpenAI-compatible server): lines run through the pipeline.
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
price_provider = "openai"
# OpenAI itself: lines go through its Batch API (simulated).
[providers.openai]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[[routes]]
name = "native"
targets = [{ provider = "openai", model = "gpt-4o-mini" }, { provider = "sim", model = "gpt-4o-mini" }]
[[routes]]
name = "chat"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
[[routes]]
name = "other"
targets = [{ provider = "sim", model = "gpt-4o-mini" }]
[[routes]]
name = "embed"
targets = [{ provider = "sim", model = "text-embedding-3-small" }]
[[routes]]
name = "native-embed"
targets = [{ provider = "openai", model = "text-embedding-3-small" }]
"#;

const ENV: &[(&str, &str)] = &[("SWITCHYARD_MASTER_KEY", MASTER)];

#[tokio::test]
async fn a_batch_runs_every_line_and_its_output_file_matches_the_custom_ids_with_usage() {
    let h = start_with(SIM, GATEWAY, &[]).await;
    let lines: Vec<String> = (0..5)
        .map(|i| line(&format!("req-{i}"), "chat", &format!("question {i}")))
        .collect();
    let created = submit(&h, None, &lines, "/v1/chat/completions").await;
    assert_eq!(created["object"], "batch");
    assert_eq!(created["completion_window"], "24h");
    assert_eq!(created["metadata"]["job"], "nightly");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("batch_"), "{id}");
    let done = wait(&h, None, &id, &["completed", "failed"]).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["request_counts"],
        json!({"total": 5, "completed": 5, "failed": 0})
    );
    assert!(done["error_file_id"].is_null());
    for stamp in [
        "in_progress_at",
        "finalizing_at",
        "completed_at",
        "expires_at",
    ] {
        assert!(done[stamp].as_i64().is_some(), "{stamp}: {done}");
    }
    let out = lines_of(&h, None, &done["output_file_id"]).await;
    let ids: Vec<&str> = out
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["req-0", "req-1", "req-2", "req-3", "req-4"]);
    for l in &out {
        assert_eq!(l["response"]["status_code"], 200);
        assert!(
            l["response"]["body"]["usage"]["total_tokens"]
                .as_u64()
                .unwrap()
                > 0,
            "{l}"
        );
        assert!(l["error"].is_null());
    }
    let recs = h.finish().await;
    let batch: Vec<_> = recs.iter().filter(|r| r.batch).collect();
    assert_eq!(batch.len(), 5, "{recs:?}");
    for r in &batch {
        assert_eq!(r.route, "chat");
        assert!(
            r.cost_usd
                .is_some_and(|c| c.decimal() > rust_decimal::Decimal::ZERO)
        );
        assert!(r.tags.contains(&("batch".to_string(), id.clone())));
    }
}

#[tokio::test]
async fn an_embeddings_batch_answers_each_input() {
    let h = start_with(SIM, GATEWAY, &[]).await;
    // One line through the pipeline, one through the provider's batch API at half price.
    let lines: Vec<String> = [("e0", "embed"), ("e1", "native-embed")]
        .iter()
        .map(|(id, route)| {
            json!({"custom_id": id, "method": "POST", "url": "/v1/embeddings",
                   "body": {"model": route, "input": "the same text"}})
            .to_string()
        })
        .collect();
    let id = submit(&h, None, &lines, "/v1/embeddings").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = wait(&h, None, &id, &["completed"]).await;
    let out = lines_of(&h, None, &done["output_file_id"]).await;
    assert_eq!(out.len(), 2);
    assert!(
        out[0]["response"]["body"]["data"][0]["embedding"].is_array(),
        "{}",
        out[0]
    );
    let stats = h.get(&format!("{}/sim/stats", h.sim)).await.json();
    assert_eq!(stats["batches"], 1, "{stats}");
    let recs = h.finish().await;
    let cost = |route: &str| {
        let r = recs.iter().find(|r| r.batch && r.route == route).unwrap();
        r.cost_usd.unwrap().decimal()
    };
    assert_eq!(
        cost("native-embed") * rust_decimal::Decimal::from(2),
        cost("embed")
    );
    // Only the provider-batch line saved anything; the pipeline line paid list price.
    let saved = |route: &str| {
        recs.iter()
            .find(|r| r.batch && r.route == route)
            .unwrap()
            .saved_usd
    };
    assert_eq!(
        saved("native-embed").unwrap().decimal(),
        cost("native-embed")
    );
    assert_eq!(saved("embed"), None);
}

#[tokio::test]
async fn malformed_lines_go_to_the_error_file_by_line_number_while_good_lines_run() {
    let h = start_with(SIM, GATEWAY, &[]).await;
    let lines = vec![
        line("good-1", "chat", "hello"),
        "{\"custom_id\": \"broken\", ".to_string(),
        json!({"method": "POST", "url": "/v1/chat/completions", "body": {"model": "chat"}})
            .to_string(),
        line("good-1", "chat", "duplicate"),
        line("wrong-url", "chat", "x").replace("/v1/chat/completions", "/v1/completions"),
        line("no-route", "no-such-route", "refused by the gateway"),
        line("good-2", "chat", "bye"),
    ];
    let id = submit(&h, None, &lines, "/v1/chat/completions").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = wait(&h, None, &id, &["completed"]).await;
    assert_eq!(
        done["request_counts"],
        json!({"total": 7, "completed": 2, "failed": 5})
    );
    let out = lines_of(&h, None, &done["output_file_id"]).await;
    let ok: Vec<&str> = out
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ok, ["good-1", "good-2"]);
    let errs = lines_of(&h, None, &done["error_file_id"]).await;
    let by_line: Vec<(u64, &str)> = errs
        .iter()
        .map(|e| {
            (
                e["error"]["line"].as_u64().unwrap(),
                e["error"]["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_line,
        [
            (2, "invalid_json"),
            (3, "missing_custom_id"),
            (4, "duplicate_custom_id"),
            (5, "invalid_url"),
            (6, "model_not_found")
        ]
    );
    assert_eq!(errs[4]["response"]["status_code"], 404);
    assert!(
        errs[4]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 6: ")
    );
    h.finish().await;
}

#[tokio::test]
async fn cancelling_a_batch_keeps_the_answered_lines_and_reports_the_rest_as_cancelled() {
    let h = start_with(SLOW_SIM, GATEWAY, &[]).await;
    let lines: Vec<String> = (0..8)
        .map(|i| line(&format!("c{i}"), "chat", "slow"))
        .collect();
    let id = submit(&h, None, &lines, "/v1/chat/completions").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    wait(&h, None, &id, &["in_progress"]).await;
    let c = call(&h, "POST", &format!("/v1/batches/{id}/cancel"), None, None).await;
    assert_eq!(c.status, 200, "{}", c.text());
    assert!(c.json()["status"] == "cancelling" || c.json()["status"] == "cancelled");
    let done = wait(&h, None, &id, &["cancelled"]).await;
    let counts = &done["request_counts"];
    assert_eq!(counts["total"], 8);
    assert!(counts["completed"].as_u64().unwrap() < 8, "{done}");
    let errs = lines_of(&h, None, &done["error_file_id"]).await;
    assert!(
        errs.iter().all(|e| e["error"]["code"] == "batch_cancelled"),
        "{errs:?}"
    );
    assert_eq!(errs.len() as u64, counts["failed"].as_u64().unwrap());
    // A finished batch cannot be cancelled again.
    let again = call(&h, "POST", &format!("/v1/batches/{id}/cancel"), None, None).await;
    assert_eq!(again.status, 200);
    let c = call(&h, "GET", "/v1/batches?limit=1", None, None)
        .await
        .json();
    assert_eq!(c["data"][0]["id"], id.as_str());
    h.finish().await;
}

#[tokio::test]
async fn a_restart_mid_batch_resumes_without_re_running_answered_lines() {
    let h = start_with(SLOW_SIM, GATEWAY, &[]).await;
    let n = 6;
    let lines: Vec<String> = (0..n)
        .map(|i| line(&format!("r{i}"), "chat", "slow"))
        .collect();
    let id = submit(&h, None, &lines, "/v1/chat/completions").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..400 {
        let b = call(&h, "GET", &format!("/v1/batches/{id}"), None, None)
            .await
            .json();
        if b["request_counts"]["completed"].as_u64().unwrap_or(0) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let dir = h.dir.clone();
    let first_sim = h.sim_count("gpt-4o-mini").await;
    h.finish().await;

    let h = start_in(SIM, GATEWAY, &[], dir).await;
    let done = wait(&h, None, &id, &["completed"]).await;
    assert_eq!(done["request_counts"]["completed"], n);
    let out = lines_of(&h, None, &done["output_file_id"]).await;
    let mut ids: Vec<&str> = out
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), n as usize, "each line answered once: {ids:?}");
    let second_sim = h.sim_count("gpt-4o-mini").await;
    // At most the one line in flight at the stop is sent twice; answered lines never are.
    assert!(
        first_sim >= 2 && second_sim <= n - 2,
        "{first_sim} then {second_sim}"
    );
    assert!(
        first_sim + second_sim <= n + 1,
        "{first_sim} + {second_sim}"
    );
    let recs = h.finish().await;
    let answered = recs.iter().filter(|r| r.batch && r.status == 200).count();
    assert!(
        answered >= n as usize && answered <= n as usize + 1,
        "{answered}"
    );
}

/// Creates a key through the admin API; returns (id, secret).
async fn key(h: &Harness, spec: Value) -> (String, String) {
    let r = call(h, "POST", "/admin/keys", Some(MASTER), Some(&spec)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    (
        v["key_info"]["id"].as_str().unwrap().to_string(),
        v["key"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_key_sees_only_its_own_files_and_batches_and_its_lines_obey_its_routes() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let (a_id, a) = key(&h, json!({"name": "a", "allowed_routes": ["chat"]})).await;
    let (_, b) = key(&h, json!({"name": "b"})).await;
    let lines = vec![line("mine", "chat", "hi"), line("forbidden", "other", "hi")];
    let created = submit(&h, Some(&a), &lines, "/v1/chat/completions").await;
    let id = created["id"].as_str().unwrap().to_string();
    let file = created["input_file_id"].as_str().unwrap().to_string();
    for path in [
        format!("/v1/batches/{id}"),
        format!("/v1/files/{file}"),
        format!("/v1/files/{file}/content"),
    ] {
        let r = call(&h, "GET", &path, Some(&b), None).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    }
    let other = call(
        &h,
        "POST",
        &format!("/v1/batches/{id}/cancel"),
        Some(&b),
        None,
    )
    .await;
    assert_eq!(other.status, 404);
    let listed = call(&h, "GET", "/v1/batches", Some(&b), None).await.json();
    assert_eq!(listed["data"], json!([]));
    assert_eq!(call(&h, "GET", "/v1/batches", None, None).await.status, 401);
    // The master key sees every key's batches.
    let done = wait(&h, Some(MASTER), &id, &["completed"]).await;
    assert_eq!(
        done["request_counts"],
        json!({"total": 2, "completed": 1, "failed": 1})
    );
    let errs = lines_of(&h, Some(&a), &done["error_file_id"]).await;
    assert_eq!(errs[0]["custom_id"], "forbidden");
    assert_eq!(errs[0]["response"]["status_code"], 403);
    let recs = h.finish().await;
    let ok: Vec<_> = recs.iter().filter(|r| r.batch && r.status == 200).collect();
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].key_id.as_deref(), Some(a_id.as_str()));
}

#[tokio::test]
async fn uploads_have_their_own_limit_above_max_body_bytes() {
    let h = start_with(SIM, GATEWAY, &[]).await;
    // 8 KiB: four times max_body_bytes, within [batch] max_file_bytes.
    let big: Vec<String> = (0..40)
        .map(|i| line(&format!("b{i}"), "chat", &"x".repeat(150)))
        .collect();
    let text = big.join("\n");
    assert!(text.len() > 2048);
    let r = upload(&h, None, text.as_bytes()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["bytes"], text.len());
    let file = r.json()["id"].as_str().unwrap().to_string();
    let got = call(&h, "GET", &format!("/v1/files/{file}/content"), None, None).await;
    assert_eq!(got.text(), text);
    let r = upload(&h, None, &vec![b'x'; 70_000]).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("max_file_bytes"), "{}", r.text());
    let d = call(&h, "DELETE", &format!("/v1/files/{file}"), None, None).await;
    assert_eq!(
        d.json(),
        json!({"id": file, "object": "file", "deleted": true})
    );
    assert_eq!(
        call(&h, "GET", &format!("/v1/files/{file}"), None, None)
            .await
            .status,
        404
    );
    let bad = call(&h, "POST", "/v1/batches", None, Some(&json!({"input_file_id": "file-x", "endpoint": "/v1/chat/completions", "completion_window": "1h"}))).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["param"], "completion_window");
    h.finish().await;
    let _ = records;
}

#[tokio::test]
async fn lines_for_an_openai_target_go_through_its_batch_api_at_the_discounted_price() {
    let h = start_with(SIM, GATEWAY, &[]).await;
    let lines = vec![
        line("n1", "native", "same question"),
        line("n2", "native", "same question"),
        line("bad", "native", "x").replace(
            r#""messages":[{"content":"x","role":"user"}]"#,
            r#""messages":"nope""#,
        ),
    ];
    let id = submit(&h, None, &lines, "/v1/chat/completions").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = wait(&h, None, &id, &["completed"]).await;
    assert_eq!(
        done["request_counts"],
        json!({"total": 3, "completed": 2, "failed": 1}),
        "{done}"
    );
    let out = lines_of(&h, None, &done["output_file_id"]).await;
    assert_eq!(out[0]["custom_id"], "n1");
    assert!(
        out[0]["response"]["body"]["usage"]["prompt_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    let stats = h.get(&format!("{}/sim/stats", h.sim)).await.json();
    assert_eq!(
        stats["batches"], 1,
        "one provider batch for both good lines: {stats}"
    );
    // The same prompt live, through the pipeline at list price.
    let live = h
        .post(
            "/v1/chat/completions",
            &common::chat("chat", "same question"),
        )
        .await;
    assert_eq!(live.status, 200);
    let recs = h.finish().await;
    let native: Vec<_> = recs.iter().filter(|r| r.batch && r.status == 200).collect();
    assert_eq!(native.len(), 2, "{recs:?}");
    let list = recs.iter().find(|r| !r.batch && r.route == "chat").unwrap();
    assert_eq!(native[0].usage, list.usage);
    let half = list.cost_usd.unwrap().decimal() / rust_decimal::Decimal::from(2);
    assert_eq!(native[0].cost_usd.unwrap().decimal(), half);
    assert_eq!(native[0].provider.as_deref(), Some("openai"));
    // The batch lever's saving: list price minus what was recorded.
    assert_eq!(native[0].saved_usd.unwrap().decimal(), half);
    assert_eq!(native[0].cache, None);
}

#[tokio::test]
async fn a_restart_while_a_provider_batch_runs_polls_it_again_and_never_resubmits() {
    // The provider batch stays in progress for 40 polls (20 ms apart): long enough to stop the
    // gateway while it waits, and to finish under the second one.
    let sim_toml = SIM.replace("seed = 3\n", "seed = 3\nbatch_polls = 40\n");
    let mut h = start_with(&sim_toml, GATEWAY, &[]).await;
    let lines: Vec<String> = (0..3)
        .map(|i| line(&format!("p{i}"), "native", "later"))
        .collect();
    let id = submit(&h, None, &lines, "/v1/chat/completions").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..200 {
        if h.get(&format!("{}/sim/stats", h.sim)).await.json()["batches"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (sim, dir) = (h.sim.clone(), h.dir.clone());
    let stop_sim = h.keep_sim();
    let first = h.finish().await;
    assert!(
        first.iter().all(|r| !(r.batch && r.status == 200)),
        "answered before the stop"
    );

    let h = start_against(sim, stop_sim, GATEWAY, &[], dir).await;
    let done = wait(&h, None, &id, &["completed"]).await;
    assert_eq!(done["request_counts"]["completed"], 3, "{done}");
    let stats = h.get(&format!("{}/sim/stats", h.sim)).await.json();
    assert_eq!(stats["batches"], 1, "resubmitted: {stats}");
    assert_eq!(
        stats["gpt-4o-mini"], 3,
        "each line answered once upstream: {stats}"
    );
    let recs = h.finish().await;
    assert_eq!(
        recs.iter().filter(|r| r.batch && r.status == 200).count(),
        3
    );
}

#[tokio::test]
async fn cancelling_cancels_the_provider_batch_and_records_what_it_had_answered() {
    // Never completes on its own: only the cancel ends it.
    let sim_toml = SIM.replace("seed = 3\n", "seed = 3\nbatch_polls = 100000\n");
    let h = start_with(&sim_toml, GATEWAY, &[]).await;
    let lines: Vec<String> = (0..3)
        .map(|i| line(&format!("k{i}"), "native", "stop me"))
        .collect();
    let id = submit(&h, None, &lines, "/v1/chat/completions").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..200 {
        if h.get(&format!("{}/sim/stats", h.sim)).await.json()["batches"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let c = call(&h, "POST", &format!("/v1/batches/{id}/cancel"), None, None).await;
    assert_eq!(c.status, 200, "{}", c.text());
    let done = wait(&h, None, &id, &["cancelled"]).await;
    let stats = h.get(&format!("{}/sim/stats", h.sim)).await.json();
    assert_eq!(stats["batch_cancels"], 1, "{stats}");
    // The simulated provider had answered every line before the cancel: none is lost.
    assert_eq!(
        done["request_counts"],
        json!({"total": 3, "completed": 3, "failed": 0}),
        "{done}"
    );
    let recs = h.finish().await;
    assert_eq!(
        recs.iter().filter(|r| r.batch && r.status == 200).count(),
        3
    );
}
