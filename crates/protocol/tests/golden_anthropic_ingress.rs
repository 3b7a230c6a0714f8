//! Golden-file tests for the Anthropic ingress: Anthropic clients served by OpenAI-dialect
//! upstreams. Each input under `tests/golden/ingress/<kind>/` has its expected output beside
//! it, compared as JSON values.
//! `UPDATE_GOLDEN=1 cargo test -p switchyard-protocol --test golden_anthropic_ingress`
//! rewrites the expected files; review the diff before committing it.
#![cfg(test)]

mod golden_support;

use golden_support::Golden;
use serde_json::{Value, json};
use switchyard_protocol::anthropic::from_openai::{
    ToAnthropic, messages_response, parse_openai_response,
};
use switchyard_protocol::anthropic::ingress::parse_request;
use switchyard_protocol::anthropic::to_openai::openai_request;
use switchyard_protocol::sse::SseFramer;

const G: Golden = Golden("tests/golden/ingress");

#[test]
fn anthropic_requests_become_openai_bodies() {
    for (name, input) in G.cases("request", ".anthropic.json") {
        let body = std::fs::read(&input).unwrap();
        let canon = parse_request(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = openai_request(&canon);
        let actual = json!({
            "body": serde_json::from_slice::<Value>(&out.json).unwrap(),
            "dropped": out.dropped,
        });
        G.check("request", &format!("{name}.openai.json"), actual);
    }
}

#[test]
fn openai_responses_become_anthropic_messages() {
    for (name, input) in G.cases("response", ".openai.json") {
        let body = std::fs::read(&input).unwrap();
        let resp = parse_openai_response(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let actual: Value = serde_json::from_slice(&messages_response(&resp)).unwrap();
        G.check("response", &format!("{name}.anthropic.json"), actual);
    }
}

/// Each transcript is fed to the translator in 5-byte pieces, as a network would split it;
/// the frames it writes are then re-read with the SSE framer, as an Anthropic client would.
#[test]
fn openai_streams_become_anthropic_events() {
    for (name, input) in G.cases("stream", ".sse") {
        let bytes = std::fs::read(&input).unwrap();
        let mut framer = SseFramer::new();
        let mut translator = ToAnthropic::new(Some("claude-route".to_string()));
        let mut frames = String::new();
        let mut events = Vec::new();
        for piece in bytes.chunks(5) {
            framer.push(piece, &mut events);
            for ev in events.drain(..) {
                frames.extend(translator.push_data(&ev.data));
            }
        }
        assert!(translator.is_done(), "{name}: stream did not finish");
        let mut client = SseFramer::new();
        let mut read = Vec::new();
        client.push(frames.as_bytes(), &mut read);
        assert_eq!(client.pending(), 0, "{name}: a frame is incomplete");
        let events: Vec<Value> = read
            .iter()
            .map(|ev| {
                let data: Value = serde_json::from_str(&ev.data).unwrap();
                assert_eq!(ev.event.as_deref(), data["type"].as_str(), "{name}");
                json!({"event": ev.event, "data": data})
            })
            .collect();
        let actual = json!({
            "events": events,
            "final_usage": serde_json::to_value(translator.usage()).unwrap(),
        });
        G.check("stream", &format!("{name}.anthropic.json"), actual);
    }
}
