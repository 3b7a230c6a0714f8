//! Fuzzes the upstream stream readers: Anthropic events and Gemini chunks translated to OpenAI
//! chunks, Gemini chunks translated to Anthropic events in one pass (what an Anthropic client
//! on a Gemini route gets), OpenAI chunks translated to Anthropic events, and the OpenAI chunk
//! view the gateway reads on a passthrough stream. The input is framed as SSE, as an
//! upstream's bytes are.
//!
//! Every payload a translator writes must be a JSON object; OpenAI payloads must be readable
//! by the chunk view, and Anthropic frames must be one SSE event each, named after their
//! payload's `type`. The OpenAI chunks written from Anthropic or Gemini events are fed on into
//! the OpenAI → Anthropic translator, whose frames must pass the same checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_fuzz::{check_anthropic_frames, json_object, sse_events};
use switchyard_protocol::anthropic::from_openai::ToAnthropic;
use switchyard_protocol::openai::ChunkView;
use switchyard_protocol::{anthropic, gemini};

fuzz_target!(|bytes: &[u8]| {
    let events = sse_events(bytes);
    let data: Vec<&str> = events.iter().map(|e| e.data.as_str()).collect();
    for d in &data {
        if let Ok(chunk) = serde_json::from_str::<ChunkView>(d) {
            let mut text = String::new();
            for delta in chunk.choices.iter().filter_map(|c| c.delta.as_ref()) {
                let _ = delta.has_output();
                delta.append_text(&mut text);
            }
            let _ = chunk.is_usage_only();
            let _ = chunk.usage.map(|u| u.to_tokens());
        }
    }
    let mut from_anthropic = anthropic::stream::ToOpenAi::new(anthropic::stream::StreamOptions {
        created: 1,
        include_usage: true,
        model: None,
    });
    let openai = translate(&data, |d| from_anthropic.push_data(d));
    to_anthropic(&openai);
    let _ = from_anthropic.usage();
    let mut from_gemini = gemini::stream::ToOpenAi::new(gemini::stream::StreamOptions {
        created: 1,
        include_usage: true,
        model: Some("m".into()),
    });
    let openai = translate(&data, |d| from_gemini.push_data(d));
    to_anthropic(&openai);
    let _ = from_gemini.usage();
    let mut once = gemini::stream::ToAnthropic::new(Some("m".into()));
    for d in &data {
        check_anthropic_frames(&once.push_data(d));
    }
    let mut closing = Vec::new();
    once.finish_framed(&mut closing);
    let closing = String::from_utf8(closing).unwrap_or_default();
    let frames: Vec<String> = closing.split_inclusive("\n\n").map(String::from).collect();
    check_anthropic_frames(&frames);
    assert!(once.is_done(), "finish ends the stream");
    let owned: Vec<String> = data.iter().map(|d| d.to_string()).collect();
    to_anthropic(&owned);
});

/// Feeds every event to a translator to OpenAI; checks and returns the payloads it writes.
fn translate(data: &[&str], mut push: impl FnMut(&str) -> Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for d in data {
        for payload in push(d) {
            json_object("an OpenAI stream payload", payload.as_bytes());
            if let Err(e) = serde_json::from_str::<ChunkView>(&payload) {
                panic!("our OpenAI chunk is unreadable ({e}): {payload}");
            }
            out.push(payload);
        }
    }
    out
}

fn to_anthropic(data: &[String]) {
    let mut tr = ToAnthropic::new(Some("m".into()));
    for d in data {
        check_anthropic_frames(&tr.push_data(d));
    }
    check_anthropic_frames(&tr.finish());
    assert!(tr.is_done(), "finish ends the stream");
    assert!(tr.finish().is_empty(), "finish is idempotent");
    let _ = tr.usage();
}
