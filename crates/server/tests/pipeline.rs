//! The pipeline's shape as a caller of the gateway sees it: every stage timed on the reply,
//! authentication inside the pipeline (an auth failure recorded with its real endpoint), and a
//! request cut while it waits on its upstream still recorded.

mod common;

use bytes::Bytes;
use common::{MASTER, chat, start, start_with};
use serde_json::json;
use std::time::Duration;
use switchyard_gateway::{Endpoint, Incoming, ReplyBody, RequestContext, Stage};
use switchyard_ledger::RecordKind;

const SIM: &str = r#"
seed = 5
[defaults]
ttft_ms = 0
tokens_per_second = 0
[models."steady"]
ttft_ms = 40
[models."endless"]
ttft_ms = 20000
"#;

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
price_provider = "openai"
[[routes]]
name = "chat"
targets = [{ provider = "sim", model = "steady" }]
[[routes]]
name = "endless"
targets = [{ provider = "sim", model = "endless" }]
"#;

fn body(v: &serde_json::Value) -> Bytes {
    Bytes::from(v.to_string())
}

#[tokio::test]
async fn every_stage_of_a_whole_answer_is_timed_on_the_reply() {
    let h = start(SIM, GATEWAY).await;
    let ctx = RequestContext::new(None, Vec::new());
    let reply = h
        .gateway
        .chat(&ctx, body(&chat("chat", "hi")))
        .await
        .unwrap();
    let elapsed = ctx.received.elapsed();
    let stages = &reply.meta.stages;
    for stage in [
        Stage::Parse,
        Stage::Execute,
        Stage::ReadUsage,
        Stage::Settle,
        Stage::Record,
    ] {
        assert!(
            stages.get(stage) > Duration::ZERO,
            "{stage:?} was not timed"
        );
    }
    // The upstream's 40 ms are the execute stage's; nothing was sampled for evaluation.
    assert!(stages.get(Stage::Execute) >= Duration::from_millis(40));
    assert_eq!(stages.get(Stage::Observe), Duration::ZERO);
    let total: Duration = stages.iter().map(|(_, d)| d).sum();
    assert!(total <= elapsed, "{total:?} > {elapsed:?}");
    // The overhead header's figure is the wall time less the upstream's, as before.
    assert!(reply.meta.overhead < stages.get(Stage::Execute));
    h.finish().await;
}

#[tokio::test]
async fn a_stream_is_timed_up_to_its_headers_and_settles_when_it_ends() {
    let h = start(SIM, GATEWAY).await;
    let ctx = RequestContext::new(None, Vec::new());
    let mut req = chat("chat", "hi");
    req["stream"] = serde_json::json!(true);
    let reply = h.gateway.chat(&ctx, body(&req)).await.unwrap();
    assert!(matches!(reply.body, ReplyBody::Stream(_)));
    let stages = &reply.meta.stages;
    assert!(stages.get(Stage::Execute) >= Duration::from_millis(40));
    assert!(stages.get(Stage::Render) > Duration::ZERO);
    // Usage, price and settlement come from the tee at the stream's end, not before the reply.
    assert_eq!(stages.get(Stage::ReadUsage), Duration::ZERO);
    assert_eq!(stages.get(Stage::Settle), Duration::ZERO);
    drop(reply);
    h.finish().await;
}

#[tokio::test]
async fn an_unauthenticated_call_is_recorded_as_a_call_to_its_own_endpoint() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    // Once one virtual key exists, every model call needs a key.
    let master = format!("Bearer {MASTER}");
    let spec = json!({"name": "bot"});
    let made = h
        .call(
            "POST",
            "/admin/keys",
            &[("authorization", &master)],
            Some(&spec),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let e = h
        .post("/v1/embeddings", &json!({"model": "chat", "input": "hi"}))
        .await;
    assert_eq!(e.status, 401, "{}", e.text());
    assert_eq!(e.json()["error"]["code"], "invalid_api_key");
    let c = h.post("/v1/chat/completions", &chat("chat", "hi")).await;
    assert_eq!(c.status, 401);
    let m =
        json!({"model": "chat", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
    let a = h.post("/v1/messages", &m).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["error"]["type"], "authentication_error");
    // Authentication and the body read are stages of the one call, timed like the rest.
    let mut ctx = RequestContext::new(None, Vec::new());
    let bytes = body(&chat("chat", "hi"));
    let incoming = Incoming {
        endpoint: Endpoint::ChatCompletions,
        key: Some(MASTER),
        traceparent: None,
        tracestate: None,
        body: async move { Ok(bytes) },
    };
    let reply = h.gateway.serve(&mut ctx, incoming).await.unwrap();
    assert!(reply.meta.stages.get(Stage::Authenticate) > Duration::ZERO);
    assert!(reply.meta.stages.get(Stage::ReadBody) > Duration::ZERO);
    let records = h.finish().await;
    let refused = |kind: RecordKind| {
        records
            .iter()
            .filter(|r| r.status == 401 && r.kind == kind)
            .count()
    };
    assert_eq!(refused(RecordKind::Embedding), 1, "the embeddings call");
    assert_eq!(
        refused(RecordKind::Chat),
        2,
        "the chat and the messages call"
    );
    assert!(
        records
            .iter()
            .any(|r| r.request_id == ctx.request_id.to_string() && r.status == 200)
    );
}

#[tokio::test]
async fn a_whole_request_cut_while_its_upstream_answers_is_recorded_as_client_disconnected() {
    let h = start(SIM, GATEWAY).await;
    h.sim_behaviour("steady", &json!({"ttft_ms": 5000})).await;
    let ctx = RequestContext::new(Some("cut".into()), Vec::new());
    // The edge drops the pipeline's future when the client goes away or the grace period ends.
    let cut = tokio::time::timeout(
        Duration::from_millis(300),
        h.gateway.chat(&ctx, body(&chat("chat", "hi"))),
    )
    .await;
    assert!(cut.is_err(), "the upstream answered within 300 ms");
    let records = h.finish().await;
    let rec = records
        .iter()
        .find(|r| r.request_id == ctx.request_id.to_string())
        .expect("the cut request has a record");
    assert_eq!(rec.error_class.as_deref(), Some("client_disconnected"));
    assert_eq!(rec.status, 499);
    assert_eq!(rec.route, "chat");
    assert_eq!(rec.workload.as_deref(), Some("cut"));
    assert!(rec.latency_ms >= 300.0, "{}", rec.latency_ms);
    assert_eq!(rec.cost_usd, None);
}

#[tokio::test]
async fn a_request_cut_when_the_grace_period_ends_is_recorded_as_client_disconnected() {
    let gateway = format!("[server]\nshutdown_grace_ms = 300\n{GATEWAY}");
    let mut h = start(SIM, &gateway).await;
    let base = h.base.clone();
    let endless = chat("endless", "never mind").to_string();
    let in_flight = tokio::spawn(async move {
        common::raw::exchange(
            &base,
            &common::raw::request("POST", "/v1/chat/completions", &endless),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    h.stop();
    tokio::time::timeout(Duration::from_secs(5), async {
        while !h.server_done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the server outlived its grace period");
    let _ = tokio::time::timeout(Duration::from_secs(2), in_flight).await;
    let records = h.finish().await;
    let cut: Vec<_> = records.iter().filter(|r| r.route == "endless").collect();
    assert_eq!(cut.len(), 1, "{records:?}");
    assert_eq!(cut[0].error_class.as_deref(), Some("client_disconnected"));
    assert_eq!(cut[0].status, 499);
}
