//! Fuzzes the Anthropic request reader (`POST /v1/messages` bodies, parsed to canonical).
//!
//! An accepted request must render as an Anthropic body that the reader accepts again, and
//! parse → render → parse → render must give the same bytes twice (the round trip is stable);
//! it must also render as an OpenAI body that is a JSON object, which the OpenAI reader accepts
//! when no unknown member was passed through, and, where Gemini can take
//! it, as a Gemini body that is a valid JSON object. (Requests with an empty turn skip the
//! round trip: see below.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_fuzz::json_object;
use switchyard_protocol::anthropic::{MessagesRequest, ingress, to_openai};
use switchyard_protocol::canonical::Block;
use switchyard_protocol::gemini::GenerateContentRequest;
use switchyard_protocol::openai::ChatRequest;

fuzz_target!(|body: &[u8]| {
    let Ok(canon) = ingress::parse_request(body) else {
        return;
    };
    let first = MessagesRequest::from(&canon).to_json();
    json_object("the Anthropic body", &first);
    // By design an empty turn (`"content": []`, or only empty text blocks) is accepted and
    // left to the upstream to judge (ingress/blocks.rs); the Anthropic body leaves it out, so
    // it cannot read back the same. Recorded in docs/testing.md.
    if canon
        .messages
        .iter()
        .any(|t| t.content.iter().all(is_empty_text))
    {
        return;
    }
    let again = match ingress::parse_request(&first) {
        Ok(c) => c,
        Err(e) => panic!(
            "the Anthropic body written from an accepted request is refused: {}: {}",
            e.message,
            String::from_utf8_lossy(&first)
        ),
    };
    let second = MessagesRequest::from(&again).to_json();
    assert!(
        first == second,
        "the Anthropic round trip is not stable:\n{}\n{}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
    let openai = to_openai::openai_request(&canon);
    json_object("the OpenAI body", &openai.json);
    // Unknown members pass through by design (to reach the upstream's own parameters), so
    // only a request without any must give a body the OpenAI reader accepts as it is.
    if !canon.extra.is_empty() {
        return;
    }
    if let Err(e) = ChatRequest::parse(&openai.json) {
        panic!(
            "the OpenAI body written from an Anthropic request is refused: {}: {}",
            e.message,
            String::from_utf8_lossy(&openai.json)
        );
    }
    if let Ok(g) = GenerateContentRequest::try_from(&canon) {
        json_object("the Gemini body", &g.to_json());
    }
});

fn is_empty_text(b: &Block) -> bool {
    matches!(b, Block::Text { text, .. } if text.is_empty())
}
