//! Anthropic client, Anthropic-dialect answer: the answer goes back to the client untouched.
//!
//! The provider marks such an answer `Dialect::Anthropic`: an Anthropic target's own, or a
//! stream another adapter rendered in Anthropic's events from canonical stream events (a
//! Gemini target's, translated once). A whole answer is forwarded byte
//! for byte with its usage read from `usage`; a stream goes through the shared [`Tee`] with an
//! [`AnthropicReader`], which forwards every event unchanged and reads usage from
//! `message_start` and `message_delta`. Usage becomes [`TokenUsage`] through the same
//! `anthropic::Usage::to_tokens` the translating path uses, so both are priced identically.
//! Must never rewrite a byte of the answer: thinking signatures, redacted thinking and fields
//! this version does not know must reach the client as the upstream sent them.
//!
//! [`Tee`]: crate::stream::Tee

use crate::stream::{EventReader, Progress};
use crate::tokens;
use bytes::{Bytes, BytesMut};
use std::time::Instant;
use switchyard_primitives::TokenUsage;
use switchyard_protocol::anthropic::error::typed_error_body;
use switchyard_protocol::anthropic::stream::StreamEvent;
use switchyard_protocol::anthropic::{Usage, parse_response, usage_of};
use switchyard_protocol::canonical::{Block, ChatRequest};
use switchyard_protocol::sse::SseEvent;

/// The usage of a whole Messages answer, and whether it had to be estimated (the upstream
/// reported none): the prompt counted from the canonical request, the output from the text
/// and thinking blocks.
pub(crate) fn whole_usage(req: &ChatRequest, body: &[u8]) -> (TokenUsage, bool) {
    if let Some(u) = usage_of(body) {
        return (u.to_tokens(), false);
    }
    let mut text = String::new();
    for block in parse_response(body).map(|r| r.content).unwrap_or_default() {
        match block {
            Block::Text { text: t, .. } | Block::Thinking { text: t, .. } => text.push_str(&t),
            _ => {}
        }
    }
    let usage = TokenUsage {
        input: tokens::count_canonical_prompt(req),
        output: tokens::count(&text),
        ..Default::default()
    };
    (usage, true)
}

/// Reads Anthropic Messages stream events for the tee; forwards every one.
#[derive(Default)]
pub(crate) struct AnthropicReader {
    /// Usage so far: `message_start` gives the prompt counts, each `message_delta` the
    /// cumulative output (and may repeat the prompt counts).
    usage: Option<Usage>,
}

impl EventReader for AnthropicReader {
    const ANTHROPIC: bool = true;

    fn inspect(&mut self, ev: &SseEvent, p: &mut Progress) -> bool {
        // Pings, comments and events this version does not know pass through unread.
        let Ok(event) = StreamEvent::parse(&ev.data) else {
            return true;
        };
        match event.kind.as_str() {
            "message_start" => {
                if let Some(m) = &event.message {
                    self.usage = Some(m.usage.clone());
                }
            }
            "message_delta" => {
                if let Some(later) = &event.usage {
                    self.usage.get_or_insert_with(Usage::default).update(later);
                }
            }
            "content_block_start" if p.keep_answer => keep_block(&event, p),
            "content_block_delta" => {
                if p.first_output.is_none() {
                    p.first_output = Some(Instant::now());
                }
                if let Some(d) = &event.delta {
                    for piece in [&d.text, &d.thinking, &d.partial_json]
                        .into_iter()
                        .flatten()
                    {
                        p.text.push_str(piece);
                    }
                    if p.keep_answer {
                        keep_delta(d, p);
                    }
                }
            }
            "error" => {
                let what = event.error.map(|e| format!("{}: {}", e.kind, e.message));
                p.upstream_error = Some(what.unwrap_or_else(|| "an error event".into()));
            }
            _ => {}
        }
        p.usage = self.usage.as_ref().map(Usage::to_tokens);
        true
    }

    fn error_event(&self, message: &str) -> Bytes {
        let body = typed_error_body(
            "api_error",
            &format!("The upstream stream broke after it began: {message}"),
        );
        let mut b = BytesMut::from(&b"event: error\ndata: "[..]);
        b.extend_from_slice(&body);
        b.extend_from_slice(b"\n\n");
        b.freeze()
    }
}

/// A sampled request's answer: a tool-use block opens a call (name, arguments) for evaluation.
fn keep_block(event: &StreamEvent, p: &mut Progress) {
    if let Some(b) = event
        .content_block
        .as_ref()
        .filter(|b| b.kind == "tool_use")
        && p.calls.len() < 128
    {
        p.calls
            .push((b.name.clone().unwrap_or_default(), String::new()));
    }
}

/// A sampled request's answer: visible text into `answer`, argument fragments into the last
/// call opened (Anthropic streams one block at a time).
fn keep_delta(d: &switchyard_protocol::anthropic::stream::Delta, p: &mut Progress) {
    if let Some(t) = &d.text {
        p.answer.push_str(t);
    }
    if let (Some(j), Some(call)) = (&d.partial_json, p.calls.last_mut()) {
        call.1.push_str(j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::sse::SseFramer;

    fn read(stream: &str) -> (Progress, Vec<bool>) {
        let mut framer = SseFramer::new();
        let mut events = Vec::new();
        framer.push(stream.as_bytes(), &mut events);
        let mut reader = AnthropicReader::default();
        let mut p = Progress::default();
        let forwarded = events.iter().map(|e| reader.inspect(e, &mut p)).collect();
        (p, forwarded)
    }

    #[test]
    fn usage_comes_from_message_start_and_the_last_message_delta() {
        let stream = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\",\"usage\":{\"input_tokens\":12,\"cache_read_input_tokens\":300,\"cache_creation_input_tokens\":40,\"cache_creation\":{\"ephemeral_5m_input_tokens\":10,\"ephemeral_1h_input_tokens\":30},\"output_tokens\":1}}}\n\n",
            "event: ping\ndata: {\"type\":\"ping\"}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9}}\n\n",
            "event: brand_new\ndata: {\"type\":\"brand_new\",\"x\":1}\n\n",
        );
        let (p, forwarded) = read(stream);
        assert!(forwarded.iter().all(|f| *f), "every event is forwarded");
        assert_eq!(forwarded.len(), 6);
        let u = p.usage.unwrap();
        assert_eq!(
            (
                u.input,
                u.cached_input,
                u.cache_write,
                u.cache_write_1h,
                u.output
            ),
            (12, 300, 40, 30, 9)
        );
        assert_eq!(p.text, "hmHi");
        assert!(p.first_output.is_some());
    }

    #[test]
    fn a_sampled_stream_keeps_its_text_and_tool_calls_apart_for_evaluation() {
        let stream = concat!(
            "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
            "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hm\"}}\n\n",
            "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
            "data: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"get\",\"input\":{}}}\n\n",
            "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\":\"}}\n\n",
            "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"1}\"}}\n\n",
        );
        let mut framer = SseFramer::new();
        let mut events = Vec::new();
        framer.push(stream.as_bytes(), &mut events);
        let mut reader = AnthropicReader::default();
        let mut p = Progress::default();
        p.keep_answer = true;
        for e in &events {
            reader.inspect(e, &mut p);
        }
        assert_eq!(p.answer, "Hi", "thinking is not the answer");
        assert_eq!(p.calls, [("get".to_string(), "{\"a\":1}".to_string())]);
    }

    #[test]
    fn no_usage_before_message_start_and_no_ttft_before_content() {
        let (p, _) = read("event: ping\ndata: {\"type\":\"ping\"}\n\n");
        assert!(p.usage.is_none() && p.first_output.is_none());
        assert!(p.upstream_error.is_none());
    }

    #[test]
    fn an_upstream_error_event_is_forwarded_and_noted_for_the_record() {
        let (p, forwarded) = read(
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
        );
        assert_eq!(forwarded, [true]);
        assert_eq!(
            p.upstream_error.as_deref(),
            Some("overloaded_error: Overloaded")
        );
    }

    #[test]
    fn a_broken_stream_ends_with_an_anthropic_error_event() {
        let b = AnthropicReader::default().error_event("reset");
        let text = String::from_utf8(b.to_vec()).unwrap();
        let data = text
            .strip_prefix("event: error\ndata: ")
            .and_then(|t| t.strip_suffix("\n\n"))
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "api_error");
        assert!(v["error"]["message"].as_str().unwrap().contains("reset"));
    }

    #[test]
    fn whole_answers_without_usage_are_estimated() {
        let req = switchyard_protocol::anthropic::ingress::parse_request(
            br#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hello there"}]}"#,
        )
        .unwrap();
        let body =
            br#"{"id":"msg_1","model":"m","content":[{"type":"text","text":"general kenobi"}]}"#;
        let (u, estimated) = whole_usage(&req, body);
        assert!(estimated && u.input > 0 && u.output > 0, "{u:?}");
        let with = br#"{"id":"msg_1","model":"m","content":[],"usage":{"input_tokens":3,"output_tokens":4}}"#;
        assert_eq!(
            whole_usage(&req, with),
            (
                TokenUsage {
                    input: 3,
                    output: 4,
                    ..Default::default()
                },
                false
            )
        );
    }
}
