//! Fuzzes the upstream response readers: OpenAI `chat.completion`, Anthropic `message` and
//! Gemini `generateContent` bodies. Every input is offered to every reader.
//!
//! An accepted answer must render as an OpenAI completion and as an Anthropic message that are
//! valid JSON and that the matching reader accepts again; parse → render → parse → render gives
//! the same bytes twice in both dialects (the round trip is stable). The cheap readers the
//! gateway runs on every passthrough body (`usage_of`, `completion_text`) must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_fuzz::json_object;
use switchyard_protocol::anthropic::{self, from_openai};
use switchyard_protocol::canonical::{ChatResponse, openai_completion};
use switchyard_protocol::{gemini, openai};

fuzz_target!(|body: &[u8]| {
    let _ = openai::usage_of(body).map(|u| u.to_tokens());
    let _ = openai::completion_text(body);
    let _ = anthropic::usage_of(body).map(|u| u.to_tokens());
    for answer in [
        from_openai::parse_openai_response(body),
        anthropic::parse_response(body),
        gemini::parse_response(body),
    ]
    .into_iter()
    .flatten()
    {
        openai_round_trip(&answer);
        anthropic_round_trip(&answer);
    }
});

fn openai_round_trip(answer: &ChatResponse) {
    let first = openai_completion(answer, 1);
    json_object("the OpenAI completion", &first);
    let again = match from_openai::parse_openai_response(&first) {
        Ok(a) => a,
        Err(e) => panic!("our OpenAI completion is refused: {}", e.message),
    };
    let second = openai_completion(&again, 1);
    assert!(
        first == second,
        "the OpenAI response round trip is not stable:\n{}\n{}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
}

fn anthropic_round_trip(answer: &ChatResponse) {
    let first = from_openai::messages_response(answer);
    json_object("the Anthropic message", &first);
    let again = match anthropic::parse_response(&first) {
        Ok(a) => a,
        Err(e) => panic!("our Anthropic message is refused: {}", e.message),
    };
    let second = from_openai::messages_response(&again);
    assert!(
        first == second,
        "the Anthropic response round trip is not stable:\n{}\n{}",
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
}
