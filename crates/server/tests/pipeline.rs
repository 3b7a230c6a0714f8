//! The pipeline's shape as a caller of the gateway sees it: every stage timed on the reply,
//! authentication inside the pipeline (an auth failure recorded with its real endpoint), and a
//! request cut while it waits on its upstream still recorded.

mod common;

use bytes::Bytes;
use common::{chat, start};
use std::time::Duration;
use switchyard_gateway::{ReplyBody, RequestContext, Stage};

const SIM: &str = r#"
seed = 5
[defaults]
ttft_ms = 0
tokens_per_second = 0
[models."steady"]
ttft_ms = 40
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
