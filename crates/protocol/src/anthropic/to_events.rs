//! Anthropic Messages stream events → canonical [`StreamEvent`]s: the Anthropic upstream's
//! reader.
//!
//! `message_start` is the start (and the prompt's usage); text, thinking and tool-use blocks
//! become text, reasoning and tool-call events (`signature_delta` the reasoning's signature,
//! `input_json_delta` a tool call's argument fragments, tool calls numbered from 0 in the order
//! their blocks open); `message_delta` carries the cumulative usage and the stop reason;
//! `message_stop` ends the stream (with `end_turn` if no stop reason came), an `error` event
//! fails it. Blocks with no canonical stream form (redacted thinking, server tools) and
//! `ping`s are dropped.

use super::response::Usage;
use super::stream::StreamEvent as Wire;
use crate::canonical::StopReason;
use crate::canonical::event::StreamEvent;
use crate::canonical::translate::Read;

/// What an Anthropic content block (by its index) carries.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Text,
    Thinking,
    /// A tool call, with its canonical index.
    Tool(u32),
    Ignored,
}

/// The reader. See the module docs.
#[derive(Debug, Default)]
pub struct Reader {
    slots: Vec<Slot>,
    next_tool: u32,
    usage: Usage,
    finished: bool,
    done: bool,
}

impl Read for Reader {
    fn read(&mut self, data: &str, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        match Wire::parse(data) {
            Ok(ev) => self.event(ev, out),
            Err(e) => {
                self.done = true;
                out.push(StreamEvent::Error {
                    kind: "upstream_error".into(),
                    message: format!("The upstream sent an invalid Anthropic stream event: {e}."),
                });
            }
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

impl Reader {
    fn event(&mut self, ev: Wire, out: &mut Vec<StreamEvent>) {
        match ev.kind.as_str() {
            "message_start" => {
                let m = ev.message.unwrap_or_default();
                self.usage.update(&m.usage);
                out.push(StreamEvent::Start {
                    id: m.id,
                    model: m.model,
                });
                out.push(StreamEvent::Usage(self.usage.to_tokens()));
            }
            "content_block_start" => self.block_start(ev, out),
            "content_block_delta" => self.block_delta(ev, out),
            "message_delta" => {
                if let Some(u) = &ev.usage {
                    self.usage.update(u);
                    out.push(StreamEvent::Usage(self.usage.to_tokens()));
                }
                if let Some(reason) = ev.delta.and_then(|d| d.stop_reason) {
                    self.finish(StopReason::from_anthropic(&reason), out);
                }
            }
            "message_stop" => {
                // A stream that never said why it stopped still finishes.
                self.finish(StopReason::EndTurn, out);
                self.done = true;
            }
            "error" => {
                self.done = true;
                let (kind, message) = ev.error.map_or_else(
                    || ("api_error".to_string(), "upstream error".to_string()),
                    |e| (e.kind, e.message),
                );
                out.push(StreamEvent::Error { kind, message });
            }
            // `ping`, `content_block_stop`, and event types added later carry nothing.
            _ => {}
        }
    }

    fn finish(&mut self, reason: StopReason, out: &mut Vec<StreamEvent>) {
        if !self.finished {
            self.finished = true;
            out.push(StreamEvent::Finish(reason));
        }
    }

    fn block_start(&mut self, ev: Wire, out: &mut Vec<StreamEvent>) {
        let (Some(index), Some(block)) = (ev.index, ev.content_block) else {
            return;
        };
        let slot = match block.kind.as_str() {
            "text" => Slot::Text,
            "thinking" => Slot::Thinking,
            "tool_use" => {
                self.next_tool += 1;
                Slot::Tool(self.next_tool - 1)
            }
            _ => Slot::Ignored,
        };
        if self.slots.len() <= index {
            self.slots.resize(index + 1, Slot::Ignored);
        }
        self.slots[index] = slot;
        let signature = block.signature.filter(|s| !s.is_empty());
        let event = match slot {
            Slot::Text => block.text.filter(|t| !t.is_empty()).map(StreamEvent::Text),
            Slot::Thinking => {
                out.extend(
                    block
                        .thinking
                        .filter(|t| !t.is_empty())
                        .map(StreamEvent::Reasoning),
                );
                signature.map(StreamEvent::ReasoningSignature)
            }
            Slot::Tool(index) => Some(StreamEvent::ToolCallStart {
                index,
                id: block.id.unwrap_or_default(),
                name: block.name.unwrap_or_default(),
            }),
            Slot::Ignored => None,
        };
        out.extend(event);
    }

    fn block_delta(&mut self, ev: Wire, out: &mut Vec<StreamEvent>) {
        let (Some(index), Some(d)) = (ev.index, ev.delta) else {
            return;
        };
        let slot = self.slots.get(index).copied().unwrap_or(Slot::Ignored);
        let event = match (slot, d.kind.as_deref()) {
            (Slot::Text, Some("text_delta")) => d.text.map(StreamEvent::Text),
            (Slot::Thinking, Some("thinking_delta")) => d.thinking.map(StreamEvent::Reasoning),
            (Slot::Thinking, Some("signature_delta")) => {
                d.signature.map(StreamEvent::ReasoningSignature)
            }
            (Slot::Tool(index), Some("input_json_delta")) => d
                .partial_json
                .filter(|j| !j.is_empty())
                .map(|fragment| StreamEvent::ToolCallArguments { index, fragment }),
            // `citations_delta`, and deltas for ignored blocks.
            _ => None,
        };
        out.extend(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(lines: &[&str]) -> (Vec<StreamEvent>, bool) {
        let mut r = Reader::default();
        let mut out = Vec::new();
        for l in lines {
            r.read(l, &mut out);
        }
        (out, r.is_done())
    }

    #[test]
    fn thinking_signatures_and_tool_arguments_become_their_events() {
        let (events, done) = read(&[
            r#"{"type":"message_start","message":{"id":"msg_1","model":"claude-x","usage":{"input_tokens":7}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"x"}}"#,
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"get","input":{}}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"#,
            r#"{"type":"message_stop"}"#,
        ]);
        assert!(done);
        let usage = |input, output| {
            StreamEvent::Usage(switchyard_primitives::TokenUsage {
                input,
                output,
                ..Default::default()
            })
        };
        assert_eq!(
            events,
            vec![
                StreamEvent::Start {
                    id: "msg_1".into(),
                    model: "claude-x".into()
                },
                usage(7, 0),
                StreamEvent::Reasoning("hm".into()),
                StreamEvent::ReasoningSignature("sig".into()),
                StreamEvent::ToolCallStart {
                    index: 0,
                    id: "toolu_1".into(),
                    name: "get".into()
                },
                StreamEvent::ToolCallArguments {
                    index: 0,
                    fragment: "{}".into()
                },
                usage(7, 9),
                StreamEvent::Finish(StopReason::ToolUse),
            ]
        );
    }

    #[test]
    fn an_error_event_or_bad_data_ends_the_stream() {
        let (events, done) = read(&[
            r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#,
            r#"{"type":"message_stop"}"#,
        ]);
        assert!(done);
        assert_eq!(
            events,
            vec![StreamEvent::Error {
                kind: "overloaded_error".into(),
                message: "busy".into()
            }]
        );
        let (events, done) = read(&["not json"]);
        assert!(
            done && matches!(&events[..], [StreamEvent::Error { kind, .. }] if kind == "upstream_error")
        );
    }
}
