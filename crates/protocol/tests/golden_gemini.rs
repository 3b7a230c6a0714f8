//! Golden-file tests for the Gemini dialect: each input under `tests/golden/gemini/<kind>/`
//! has its expected output beside it, compared as JSON values.
//! `UPDATE_GOLDEN=1 cargo test -p switchyard-protocol --test golden_gemini` rewrites the
//! expected files; review the diff before committing it.
#![cfg(test)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use switchyard_protocol::gemini::stream::{StreamOptions, ToOpenAi};
use switchyard_protocol::gemini::{GenerateContentRequest, parse_response};
use switchyard_protocol::sse::SseFramer;
use switchyard_protocol::{canonical, openai};

/// The `created` timestamp every golden OpenAI output reports.
const CREATED: u64 = 1_700_000_000;

fn dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/gemini")
        .join(kind)
}

/// Every input file in `kind` ending in `input_suffix`, with its case name.
fn cases(kind: &str, input_suffix: &str) -> Vec<(String, PathBuf)> {
    let mut out: Vec<_> = std::fs::read_dir(dir(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p
                .file_name()?
                .to_str()?
                .strip_suffix(input_suffix)?
                .to_string();
            Some((name, p))
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no golden cases in gemini/{kind}");
    out
}

fn check(kind: &str, expected_name: &str, actual: Value) {
    let path = dir(kind).join(expected_name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    let expected: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        actual,
        expected,
        "gemini/{kind}/{expected_name} differs; actual:\n{}",
        serde_json::to_string_pretty(&actual).unwrap()
    );
}

fn canonical_request(body: &[u8]) -> canonical::ChatRequest {
    let view = openai::ChatRequest::parse(body).unwrap();
    canonical::ChatRequest::try_from(&view).unwrap()
}

#[test]
fn openai_requests_become_gemini_bodies() {
    for (name, input) in cases("request", ".openai.json") {
        let canon = canonical_request(&std::fs::read(&input).unwrap());
        let body = GenerateContentRequest::try_from(&canon)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .to_json();
        let actual: Value = serde_json::from_slice(&body).unwrap();
        check("request", &format!("{name}.gemini.json"), actual);
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
    for (name, input) in cases("response", ".gemini.json") {
        let body = std::fs::read(&input).unwrap();
        let resp = parse_response(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = canonical::openai_completion(&resp, CREATED);
        let actual: Value = serde_json::from_slice(&out).unwrap();
        check("response", &format!("{name}.openai.json"), actual);
    }
}

/// Each transcript is fed to the translator in 7-byte pieces, as a network would split it.
/// Cases whose name contains `no_usage` stream without `include_usage`.
#[test]
fn gemini_streams_become_openai_chunks() {
    for (name, input) in cases("stream", ".sse") {
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
        check("stream", &format!("{name}.openai.json"), actual);
    }
}
