//! Golden-file tests for dialect conversions: each input under `tests/golden/<kind>/` has its
//! expected output beside it. Outputs are compared as JSON values, so formatting is free.
//! `UPDATE_GOLDEN=1 cargo test -p switchyard-protocol --test golden` rewrites the expected
//! files; review the diff before committing it.
#![cfg(test)]

mod golden_support;

use golden_support::Golden;
use serde_json::Value;
use switchyard_protocol::anthropic::stream::{StreamOptions, ToOpenAi};
use switchyard_protocol::anthropic::{MessagesRequest, parse_response};
use switchyard_protocol::sse::SseFramer;
use switchyard_protocol::{canonical, openai};

const G: Golden = Golden("tests/golden");

/// The `created` timestamp every golden OpenAI output reports.
const CREATED: u64 = 1_700_000_000;

#[test]
fn openai_requests_become_anthropic_bodies() {
    for (name, input) in G.cases("request", ".openai.json") {
        let body = std::fs::read(&input).unwrap();
        let view = openai::ChatRequest::parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let canon =
            canonical::ChatRequest::try_from(&view).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = MessagesRequest::from(&canon).to_json();
        let actual: Value = serde_json::from_slice(&out).unwrap();
        G.check("request", &format!("{name}.anthropic.json"), actual);
    }
}

#[test]
fn anthropic_responses_become_openai_completions() {
    for (name, input) in G.cases("response", ".anthropic.json") {
        let body = std::fs::read(&input).unwrap();
        let resp = parse_response(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = canonical::openai_completion(&resp, CREATED);
        let actual: Value = serde_json::from_slice(&out).unwrap();
        G.check("response", &format!("{name}.openai.json"), actual);
    }
}

/// Each transcript is fed to the translator in 7-byte pieces, as a network would split it.
/// Cases whose name contains `no_usage` stream without `include_usage`.
#[test]
fn anthropic_streams_become_openai_chunks() {
    for (name, input) in G.cases("stream", ".sse") {
        let bytes = std::fs::read(&input).unwrap();
        let mut framer = SseFramer::new();
        let mut translator = ToOpenAi::new(StreamOptions {
            created: CREATED,
            include_usage: !name.contains("no_usage"),
            model: None,
        });
        let mut payloads = Vec::new();
        let mut events = Vec::new();
        for piece in bytes.chunks(7) {
            framer.push(piece, &mut events);
            for ev in events.drain(..) {
                for p in translator.push_data(&ev.data) {
                    payloads.push(serde_json::from_str::<Value>(&p).unwrap());
                }
            }
        }
        assert!(translator.is_done(), "{name}: stream did not finish");
        let usage = translator.usage();
        let actual = serde_json::json!({
            "chunks": payloads,
            "final_usage": serde_json::to_value(usage).unwrap(),
        });
        G.check("stream", &format!("{name}.openai.json"), actual);
    }
}
