//! Golden-file tests for the Gemini dialect: each input under `tests/golden/gemini/<kind>/`
//! has its expected output beside it, compared as JSON values.
//! `UPDATE_GOLDEN=1 cargo test -p switchyard-protocol --test golden_gemini` rewrites the
//! expected files; review the diff before committing it.
#![cfg(test)]

mod golden_support;

use golden_support::Golden;
use serde_json::Value;
use switchyard_protocol::gemini::stream::{StreamOptions, ToAnthropic, ToOpenAi};
use switchyard_protocol::gemini::{GenerateContentRequest, parse_response};
use switchyard_protocol::sse::SseFramer;
use switchyard_protocol::{canonical, openai};

const G: Golden = Golden("tests/golden/gemini");

/// The `created` timestamp every golden OpenAI output reports.
const CREATED: u64 = 1_700_000_000;

fn canonical_request(body: &[u8]) -> canonical::ChatRequest {
    let view = openai::ChatRequest::parse(body).unwrap();
    canonical::ChatRequest::try_from(&view).unwrap()
}

#[test]
fn openai_requests_become_gemini_bodies() {
    for (name, input) in G.cases("request", ".openai.json") {
        let canon = canonical_request(&std::fs::read(&input).unwrap());
        let body = GenerateContentRequest::try_from(&canon)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .to_json();
        let actual: Value = serde_json::from_slice(&body).unwrap();
        G.check("request", &format!("{name}.gemini.json"), actual);
    }
}

#[test]
fn an_image_url_without_a_known_type_is_refused() {
    let canon = canonical_request(
        br#"{"model":"m","messages":[{"role":"user","content":[
            {"type":"image_url","image_url":{"url":"https://example.com/render?id=7"}}]}]}"#,
    );
    let err = GenerateContentRequest::try_from(&canon).unwrap_err();
    assert!(err.message.contains("base64 data URL"), "{err}");
}

#[test]
fn a_tool_result_without_its_call_is_refused() {
    let canon = canonical_request(
        br#"{"model":"m","messages":[{"role":"user","content":"hi"},
            {"role":"tool","tool_call_id":"call_9","content":"x"}]}"#,
    );
    let err = GenerateContentRequest::try_from(&canon).unwrap_err();
    assert!(err.message.contains("call_9"), "{err}");
}

#[test]
fn gemini_responses_become_openai_completions() {
    for (name, input) in G.cases("response", ".gemini.json") {
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
fn gemini_streams_become_openai_chunks() {
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
        let actual = serde_json::json!({
            "chunks": payloads,
            "final_usage": serde_json::to_value(translator.usage()).unwrap(),
        });
        G.check("stream", &format!("{name}.openai.json"), actual);
    }
}

/// The same transcripts for an Anthropic client: Gemini chunks become Anthropic Messages
/// events in one pass (reader → canonical events → Anthropic renderer), fed in 7-byte pieces.
#[test]
fn gemini_streams_become_anthropic_events() {
    for (name, input) in G.cases("stream", ".sse") {
        let bytes = std::fs::read(&input).unwrap();
        let mut framer = SseFramer::new();
        let mut translator = ToAnthropic::new(Some("claude-route".into()));
        let mut out = Vec::new();
        let mut events = Vec::new();
        for piece in bytes.chunks(7) {
            framer.push(piece, &mut events);
            for ev in events.drain(..) {
                translator.push_framed(&ev.data, &mut out);
            }
        }
        assert!(translator.is_done(), "{name}: stream did not finish");
        let mut frames = Vec::new();
        let mut reframer = SseFramer::new();
        reframer.push(&out, &mut events);
        for ev in events.drain(..) {
            let data: Value = serde_json::from_str(&ev.data).unwrap();
            assert_eq!(
                ev.event.as_deref(),
                data["type"].as_str(),
                "{name}: event name"
            );
            frames.push(data);
        }
        let actual = serde_json::json!({
            "frames": frames,
            "final_usage": serde_json::to_value(translator.usage()).unwrap(),
        });
        G.check("stream", &format!("{name}.anthropic.json"), actual);
    }
}

/// The one-pass Gemini → Anthropic translation says exactly what the old two-pass one did
/// (Gemini → OpenAI chunks → Anthropic events), frame for frame, on every transcript.
#[test]
fn the_one_pass_anthropic_stream_equals_the_old_two_pass_one() {
    use switchyard_protocol::anthropic::from_openai::ToAnthropic as FromOpenAi;
    for (name, input) in G.cases("stream", ".sse") {
        let bytes = std::fs::read(&input).unwrap();
        let mut events = Vec::new();
        SseFramer::new().push(&bytes, &mut events);
        let mut once = ToAnthropic::new(Some("claude-route".into()));
        let mut first = ToOpenAi::new(StreamOptions {
            created: CREATED,
            include_usage: true,
            model: None,
        });
        let mut second = FromOpenAi::new(Some("claude-route".into()));
        let (mut new, mut old) = (String::new(), String::new());
        for ev in &events {
            new.extend(once.push_data(&ev.data));
            for chunk in first.push_data(&ev.data) {
                old.extend(second.push_data(&chunk));
            }
        }
        old.extend(second.finish());
        assert_eq!(new, old, "{name}");
    }
}

/// The Anthropic client's translator of a Gemini stream is Gemini's reader joined to the
/// Anthropic renderer: no OpenAI chunk writer or reader sits between them.
#[test]
fn the_gemini_to_anthropic_translator_has_no_openai_stage() {
    let name = std::any::type_name::<ToAnthropic>();
    assert!(
        name.contains("gemini::to_events::Reader") && name.contains("anthropic::from_events"),
        "{name}"
    );
    assert!(
        !name.contains("openai") && !name.contains("to_chunks"),
        "{name}"
    );
}
