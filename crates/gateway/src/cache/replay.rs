//! A stored answer rendered for the caller, in its dialect and its mode: a whole OpenAI
//! `chat.completion` or Anthropic Messages response, or a proper SSE stream. The OpenAI stream
//! is a role chunk, the content in chunks of at most [`PIECE`] bytes, one chunk per tool call,
//! the finish chunk, the usage chunk when the client asked (`stream_options.include_usage`)
//! and `[DONE]`; Anthropic's stream is the answer as canonical stream events (the same text
//! pieces, one tool call each) through the protocol's Anthropic renderer (`message_start` …
//! `message_stop`), so both dialects replay exactly what a live answer would look like. Usage
//! is the original answer's.
//!
//! Must never know the store or the ledger.

use super::entry::Entry;
use bytes::{Bytes, BytesMut};
use serde_json::json;
use switchyard_protocol::anthropic::from_events::FrameWriter;
use switchyard_protocol::anthropic::from_openai::messages_response;
use switchyard_protocol::canonical::event::StreamEvent;
use switchyard_protocol::canonical::translate::Render;
use switchyard_protocol::canonical::{StopReason, openai_completion, openai_usage};

/// The largest content delta a replayed stream sends at once.
pub(crate) const PIECE: usize = 256;

/// How the caller wants the answer.
pub(crate) struct Ask<'a> {
    /// The response id to report (`chatcmpl-…` / `msg_…` are added by the renderers).
    pub id: &'a str,
    /// The model name to report.
    pub model: &'a str,
    pub created: u64,
    /// OpenAI streams: end with the usage chunk.
    pub include_usage: bool,
}

/// The stored OpenAI body as it was when there is one (a cache returns the bytes it kept),
/// else rendered from the neutral form.
pub(crate) fn openai_whole(e: &Entry, ask: &Ask<'_>) -> Bytes {
    if let Some(b) = &e.openai {
        return b.clone();
    }
    let resp = e.to_response(format!("chatcmpl-{}", ask.id), ask.model.to_string());
    Bytes::from(openai_completion(&resp, ask.created))
}

pub(crate) fn anthropic_whole(e: &Entry, ask: &Ask<'_>) -> Bytes {
    let e = e.neutral();
    let resp = e.to_response(format!("msg_{}", ask.id), ask.model.to_string());
    Bytes::from(messages_response(&resp))
}

/// The OpenAI chunk payloads (each an SSE event's `data`), `[DONE]` last.
fn openai_chunks(e: &Entry, ask: &Ask<'_>, include_usage: bool) -> Vec<String> {
    let e = &*e.neutral();
    let id = format!("chatcmpl-{}", ask.id);
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        json!({
            "id": id, "object": "chat.completion.chunk", "created": ask.created, "model": ask.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        })
        .to_string()
    };
    let mut out = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    for piece in pieces(&e.text) {
        out.push(chunk(json!({"content": piece}), None));
    }
    for (i, c) in e.calls.iter().enumerate() {
        let call = json!({"index": i, "id": c.id, "type": "function",
            "function": {"name": c.name, "arguments": c.arguments}});
        out.push(chunk(json!({"tool_calls": [call]}), None));
    }
    out.push(chunk(json!({}), Some(&e.finish)));
    if include_usage {
        out.push(
            json!({
                "id": id, "object": "chat.completion.chunk", "created": ask.created,
                "model": ask.model, "choices": [], "usage": openai_usage(&e.usage),
            })
            .to_string(),
        );
    }
    out.push("[DONE]".into());
    out
}

pub(crate) fn openai_stream(e: &Entry, ask: &Ask<'_>) -> Bytes {
    let mut out = BytesMut::new();
    for data in openai_chunks(e, ask, ask.include_usage) {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(data.as_bytes());
        out.extend_from_slice(b"\n\n");
    }
    out.freeze()
}

pub(crate) fn anthropic_stream(e: &Entry, ask: &Ask<'_>) -> Bytes {
    let mut w = FrameWriter::new(Some(ask.model.to_string()));
    let mut frames = Vec::new();
    for ev in events(e, ask) {
        w.render(ev, &mut frames);
    }
    w.end(&mut frames);
    let mut out = BytesMut::new();
    for frame in frames {
        out.extend_from_slice(frame.as_bytes());
    }
    out.freeze()
}

/// The stored answer as the canonical stream events a live answer's reader would give.
fn events(e: &Entry, ask: &Ask<'_>) -> Vec<StreamEvent> {
    let e = &*e.neutral();
    let mut out = vec![StreamEvent::Start {
        id: format!("chatcmpl-{}", ask.id),
        model: ask.model.to_string(),
    }];
    out.extend(pieces(&e.text).map(|p| StreamEvent::Text(p.to_string())));
    for (index, c) in (0u32..).zip(&e.calls) {
        out.push(StreamEvent::ToolCallStart {
            index,
            id: c.id.clone(),
            name: c.name.clone(),
        });
        out.push(StreamEvent::ToolCallArguments {
            index,
            fragment: c.arguments.clone(),
        });
    }
    out.push(StreamEvent::Usage(e.usage));
    out.push(StreamEvent::Finish(StopReason::from_openai(&e.finish)));
    out
}

/// `text` in pieces of at most [`PIECE`] bytes, cut on char boundaries.
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut cut = rest.len().min(PIECE);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::entry::Call;
    use switchyard_primitives::TokenUsage;

    fn entry() -> Entry {
        Entry {
            provider: "p".into(),
            model: "m".into(),
            text: "é".repeat(200),
            calls: vec![Call {
                id: "call_1".into(),
                name: "get".into(),
                arguments: "{\"a\":1}".into(),
            }],
            finish: "tool_calls".into(),
            usage: TokenUsage {
                input: 9,
                output: 4,
                ..Default::default()
            },
            openai: None,
            scope: String::new(),
            check: None,
        }
    }

    fn ask(include_usage: bool) -> Ask<'static> {
        Ask {
            id: "x",
            model: "m",
            created: 1,
            include_usage,
        }
    }

    #[test]
    fn an_openai_replay_splits_content_on_char_boundaries_and_ends_with_usage_and_done() {
        let text = String::from_utf8(openai_stream(&entry(), &ask(true)).to_vec()).unwrap();
        let events: Vec<&str> = text.split("\n\n").filter(|s| !s.is_empty()).collect();
        // role, 2 content pieces (400 bytes), 1 tool call, finish, usage, [DONE]
        assert_eq!(events.len(), 7, "{text}");
        assert!(events[1].contains("\"content\""));
        assert!(events[3].contains("\"tool_calls\""));
        assert!(events[4].contains("\"finish_reason\":\"tool_calls\""));
        assert!(events[5].contains("\"prompt_tokens\":9"));
        assert_eq!(events[6], "data: [DONE]");
        let without = String::from_utf8(openai_stream(&entry(), &ask(false)).to_vec()).unwrap();
        assert!(!without.contains("prompt_tokens"));
    }

    #[test]
    fn an_anthropic_replay_is_a_full_event_sequence_with_the_tool_use_and_usage() {
        let text = String::from_utf8(anthropic_stream(&entry(), &ask(false)).to_vec()).unwrap();
        let first = text.find("event: message_start").unwrap();
        let tool = text.find("\"tool_use\"").unwrap();
        let stop = text.find("event: message_stop").unwrap();
        assert!(first < tool && tool < stop, "{text}");
        assert!(text.contains("\"stop_reason\":\"tool_use\""));
        assert!(text.contains("\"output_tokens\":4"));
    }

    #[test]
    fn an_anthropic_replay_renders_once_what_translating_the_openai_replay_gave() {
        let mut tr =
            switchyard_protocol::anthropic::from_openai::ToAnthropic::new(Some("m".into()));
        let mut twice = String::new();
        for data in openai_chunks(&entry(), &ask(false), true) {
            twice.extend(tr.push_data(&data));
        }
        twice.extend(tr.finish());
        let once = String::from_utf8(anthropic_stream(&entry(), &ask(false)).to_vec()).unwrap();
        assert_eq!(once, twice);
    }
}
