//! The simulated Anthropic Message Batches and Gemini batch mode, driven through the router
//! in-process: the wire shapes an adapter reads (batch objects, the results JSONL, the
//! long-running operation and its inline responses), polls before the end, cancel, and bad
//! requests.
#![expect(
    clippy::unwrap_used,
    reason = "test: a malformed answer should fail the test loudly"
)]

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use support::{Reply, config_with, post, send};
use switchyard_sim::{SimConfig, router};

const V: (&str, &str) = ("anthropic-version", "2023-06-01");

fn get(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::get(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).unwrap()
}

fn params(model: &str, text: &str) -> Value {
    json!({"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": text}]})
}

async fn anthropic_batch(app: &Router, requests: Value) -> Reply {
    send(
        app,
        post("/v1/messages/batches", &[V], &json!({"requests": requests})),
    )
    .await
}

fn results(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_message_batch_runs_then_ends_with_a_result_per_custom_id() {
    let mut config = config_with("claude-broken", |b| b.error_rate = 1.0);
    config.batch_polls = 1;
    let app = router(config);
    let created = anthropic_batch(
        &app,
        json!([{"custom_id": "a", "params": params("claude-haiku-4-5", "hi")},
               {"custom_id": "b", "params": params("claude-broken", "hi")}]),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.text());
    let b = created.json();
    assert_eq!(b["type"], "message_batch");
    assert_eq!(b["processing_status"], "in_progress");
    assert_eq!(b["request_counts"]["processing"], 2);
    assert!(b["results_url"].is_null());
    let id = b["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("msgbatch_"));
    let path = format!("/v1/messages/batches/{id}");
    let early = send(&app, get(&format!("{path}/results"), &[V])).await;
    assert_eq!(early.status, 400, "no results before the end");
    assert_eq!(
        send(&app, get(&path, &[V])).await.json()["processing_status"],
        "in_progress"
    );
    let ended = send(&app, get(&path, &[V])).await.json();
    assert_eq!(ended["processing_status"], "ended");
    assert_eq!(ended["request_counts"]["succeeded"], 1);
    assert_eq!(ended["request_counts"]["errored"], 1);
    assert!(
        ended["results_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{path}/results"))
    );
    let lines = results(
        send(&app, get(&format!("{path}/results"), &[V]))
            .await
            .text(),
    );
    assert_eq!(lines[0]["custom_id"], "a");
    assert_eq!(lines[0]["result"]["type"], "succeeded");
    assert_eq!(lines[0]["result"]["message"]["type"], "message");
    assert_eq!(lines[1]["result"]["type"], "errored");
    assert_eq!(lines[1]["result"]["error"]["type"], "error");
}

#[tokio::test]
async fn cancelling_a_running_message_batch_keeps_the_first_half_and_cancels_the_rest() {
    let mut config = SimConfig::instant();
    config.batch_polls = 1000;
    let app = router(config);
    let reqs: Vec<Value> = (0..4)
        .map(|i| json!({"custom_id": format!("r{i}"), "params": params("claude-haiku-4-5", "x")}))
        .collect();
    let id = anthropic_batch(&app, json!(reqs)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/messages/batches/{id}");
    let c = send(&app, post(&format!("{path}/cancel"), &[V], &json!({}))).await;
    assert_eq!(c.json()["processing_status"], "canceling");
    let ended = send(&app, get(&path, &[V])).await.json();
    assert_eq!(ended["processing_status"], "ended");
    assert_eq!(ended["request_counts"]["canceled"], 2);
    let kinds: Vec<Value> = results(
        send(&app, get(&format!("{path}/results"), &[V]))
            .await
            .text(),
    )
    .into_iter()
    .map(|l| l["result"]["type"].clone())
    .collect();
    assert_eq!(
        kinds,
        [
            json!("succeeded"),
            json!("succeeded"),
            json!("canceled"),
            json!("canceled")
        ]
    );
}

#[tokio::test]
async fn a_message_batch_with_a_bad_or_repeated_custom_id_is_refused() {
    let app = router(SimConfig::instant());
    for requests in [
        json!([]),
        json!([{"custom_id": "has space", "params": params("m", "x")}]),
        json!([{"custom_id": "a", "params": params("m", "x")}, {"custom_id": "a", "params": params("m", "y")}]),
        json!([{"custom_id": "a"}]),
    ] {
        let r = anthropic_batch(&app, requests.clone()).await;
        assert_eq!(r.status, 400, "{requests}");
        assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    }
    let unknown = send(&app, get("/v1/messages/batches/msgbatch_nope", &[V])).await;
    assert_eq!(unknown.status, 404);
}

fn gemini_request(text: &str, key: &str) -> Value {
    json!({"request": {"contents": [{"role": "user", "parts": [{"text": text}]}]},
           "metadata": {"key": key}})
}

#[tokio::test]
async fn a_gemini_batch_is_an_operation_polled_until_done_with_inline_responses() {
    let mut config = config_with("gemini-broken", |b| b.error_rate = 1.0);
    config.batch_polls = 1;
    let app = router(config);
    let body = json!({"batch": {"displayName": "t", "inputConfig": {"requests": {"requests": [
        gemini_request("hello", "1")]}}}});
    let op = send(
        &app,
        post(
            "/v1beta/models/gemini-2.5-flash:batchGenerateContent",
            &[],
            &body,
        ),
    )
    .await
    .json();
    let name = op["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("batches/"), "{op}");
    assert_eq!(op["metadata"]["state"], "BATCH_STATE_RUNNING");
    assert!(op.get("done").is_none());
    let path = format!("/v1beta/{name}");
    assert!(
        send(&app, get(&path, &[]))
            .await
            .json()
            .get("done")
            .is_none()
    );
    let done = send(&app, get(&path, &[])).await.json();
    assert_eq!(done["done"], true);
    assert_eq!(done["metadata"]["state"], "BATCH_STATE_SUCCEEDED");
    let inlined = &done["response"]["inlinedResponses"]["inlinedResponses"];
    assert_eq!(inlined[0]["metadata"]["key"], "1");
    assert!(
        inlined[0]["response"]["usageMetadata"]["promptTokenCount"]
            .as_u64()
            .unwrap()
            > 0
    );

    let broken =
        json!({"batch": {"inputConfig": {"requests": {"requests": [gemini_request("x", "7")]}}}});
    let op = send(
        &app,
        post(
            "/v1beta/models/gemini-broken:batchGenerateContent",
            &[],
            &broken,
        ),
    )
    .await
    .json();
    let path = format!("/v1beta/{}", op["name"].as_str().unwrap());
    send(&app, get(&path, &[])).await;
    let done = send(&app, get(&path, &[])).await.json();
    let item = &done["response"]["inlinedResponses"]["inlinedResponses"][0];
    assert_eq!(item["metadata"]["key"], "7");
    assert_eq!(item["error"]["status"], "INTERNAL", "{done}");
}

#[tokio::test]
async fn cancelling_a_gemini_batch_ends_it_cancelled_with_the_processed_half() {
    let mut config = SimConfig::instant();
    config.batch_polls = 1000;
    let app = router(config);
    let reqs: Vec<Value> = (0..2)
        .map(|i| gemini_request("x", &i.to_string()))
        .collect();
    let body = json!({"batch": {"input_config": {"requests": {"requests": reqs}}}});
    let op = send(
        &app,
        post(
            "/v1beta/models/gemini-2.5-flash:batchGenerateContent",
            &[],
            &body,
        ),
    )
    .await
    .json();
    let name = op["name"].as_str().unwrap().to_string();
    let c = send(
        &app,
        post(&format!("/v1beta/{name}:cancel"), &[], &json!({})),
    )
    .await;
    assert_eq!(c.status, 200, "{}", c.text());
    let done = send(&app, get(&format!("/v1beta/{name}"), &[]))
        .await
        .json();
    assert_eq!(done["metadata"]["state"], "BATCH_STATE_CANCELLED");
    let inlined = done["response"]["inlinedResponses"]["inlinedResponses"]
        .as_array()
        .unwrap();
    assert_eq!(inlined.len(), 1, "{done}");
    let empty = json!({"batch": {"inputConfig": {"requests": {"requests": []}}}});
    let r = send(
        &app,
        post(
            "/v1beta/models/gemini-2.5-flash:batchGenerateContent",
            &[],
            &empty,
        ),
    )
    .await;
    assert_eq!(r.status, 400);
}
