//! Golden-file tests for Responses clients on translated targets: each Anthropic stream under
//! `tests/golden/stream/` and each Gemini stream under `tests/golden/gemini/stream/` has its
//! typed Responses events beside it (`<case>.responses.json`), compared as JSON values.
//! `UPDATE_GOLDEN=1 cargo test -p switchyard-protocol --test golden_responses` rewrites the
//! expected files; review the diff before committing it.
#![cfg(test)]

mod golden_support;

use golden_support::Golden;
use serde_json::Value;
use switchyard_protocol::canonical::translate::{Read, Translator};
use switchyard_protocol::responses::translate::{FromAnthropic, FromGemini};
use switchyard_protocol::responses::{Ids, Renderer};
use switchyard_protocol::sse::SseFramer;

const ANTHROPIC: Golden = Golden("tests/golden/stream");
const GEMINI: Golden = Golden("tests/golden/gemini/stream");

fn renderer() -> Renderer {
    Renderer::new(
        Ids::new("golden"),
        "route-model".into(),
        1_700_000_000,
        String::new(),
    )
}

/// Feeds a transcript in 7-byte pieces, as a network would split it, and returns the frames
/// as (event name, data) after checking each frame's name matches its `type`.
fn run<R: Read>(name: &str, bytes: &[u8], mut tr: Translator<R, Renderer>) -> Value {
    let mut framer = SseFramer::new();
    let mut events = Vec::new();
    let mut out = Vec::new();
    for piece in bytes.chunks(7) {
        framer.push(piece, &mut events);
        for ev in events.drain(..) {
            tr.push_framed(&ev.data, &mut out);
        }
    }
    tr.finish_framed(&mut out);
    let mut frames = Vec::new();
    SseFramer::new().push(&out, &mut events);
    for (seq, ev) in events.drain(..).enumerate() {
        let data: Value = serde_json::from_str(&ev.data).unwrap();
        assert_eq!(ev.event.as_deref(), data["type"].as_str(), "{name}: name");
        assert_eq!(data["sequence_number"], seq, "{name}: sequence");
        frames.push(data);
    }
    serde_json::json!({
        "frames": frames,
        "final_usage": serde_json::to_value(tr.usage()).unwrap(),
    })
}

#[test]
fn anthropic_streams_become_responses_events() {
    for (name, input) in ANTHROPIC.cases("", ".sse") {
        let bytes = std::fs::read(&input).unwrap();
        let actual = run(
            &name,
            &bytes,
            FromAnthropic::join(Default::default(), renderer()),
        );
        ANTHROPIC.check("", &format!("{name}.responses.json"), actual);
    }
}

#[test]
fn gemini_streams_become_responses_events() {
    for (name, input) in GEMINI.cases("", ".sse") {
        let bytes = std::fs::read(&input).unwrap();
        let actual = run(
            &name,
            &bytes,
            FromGemini::join(Default::default(), renderer()),
        );
        GEMINI.check("", &format!("{name}.responses.json"), actual);
    }
}

/// Anthropic's thinking signature reaches the reasoning item, as `swy1:<signature>` in its
/// `encrypted_content`: an OpenAI chunk stage in between could not have carried it.
#[test]
fn an_anthropic_thinking_signature_reaches_the_reasoning_item() {
    let bytes = std::fs::read(ANTHROPIC.path("thinking.sse")).unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.contains("\"signature\":\"EqQBCkYIBRgCIkB\""));
    let v = run(
        "thinking",
        &bytes,
        FromAnthropic::join(Default::default(), renderer()),
    );
    let done = v["frames"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["type"] == "response.output_item.done" && f["item"]["type"] == "reasoning")
        .unwrap();
    assert_eq!(
        done["item"]["encrypted_content"], "swy1:EqQBCkYIBRgCIkB",
        "{done}"
    );
}

/// The Responses translators of Anthropic and Gemini streams are each dialect's reader joined
/// to the Responses renderer: no OpenAI chunk writer or reader sits between them.
#[test]
fn the_responses_translators_have_no_openai_stage() {
    for name in [
        std::any::type_name::<FromAnthropic>(),
        std::any::type_name::<FromGemini>(),
    ] {
        assert!(name.contains("responses::stream::Renderer"), "{name}");
        assert!(
            name.contains("anthropic::to_events::Reader")
                || name.contains("gemini::to_events::Reader"),
            "{name}"
        );
        assert!(
            !name.contains("openai") && !name.contains("to_chunks"),
            "{name}"
        );
    }
}
