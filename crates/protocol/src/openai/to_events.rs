//! OpenAI `chat.completion.chunk` stream → canonical [`StreamEvent`]s: the reader for every
//! OpenAI-dialect upstream.
//!
//! Feed each SSE event's data to [`ToEvents::push_data`]. The first chunk gives `Start` (its
//! `id` and `model`); `content` deltas give `Text`, `reasoning_content` deltas `Reasoning`; a
//! tool call's first delta (the one with an `id` or a `name`) gives `ToolCallStart`, its
//! `arguments` fragments `ToolCallArguments`; `finish_reason` gives `Finish`, a `usage` member
//! `Usage`; an `error` object, or data that is not a chunk, `Error` (the error first: a stream
//! that fails at once is a lone `Error`). `[DONE]` ends the stream.
//! Upholds the invariants of [`crate::canonical::event`]: `Start` once and first, `Finish` once.

use crate::canonical::StopReason;
use crate::canonical::event::StreamEvent;
use crate::canonical::translate::Read;
use crate::openai::{ChunkDelta, Usage};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    choices: Vec<Choice<'a>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<WireError>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow, default)]
    delta: Option<ChunkDelta<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// The reader's state across one stream.
#[derive(Debug, Default)]
pub struct ToEvents {
    started: bool,
    finished: bool,
    /// An `Error` was read: nothing follows it.
    errored: bool,
    /// `[DONE]` was read: the upstream said its stream is over.
    saw_done: bool,
    /// The upstream index of each tool call begun, in order; its position is the call's
    /// canonical index.
    calls: Vec<usize>,
}

/// The OpenAI reader as a hub [`Read`]: done at `[DONE]` or an error (the usage chunk comes
/// after the finish, so a finish alone does not end the stream).
impl Read for ToEvents {
    fn read(&mut self, data: &str, out: &mut Vec<StreamEvent>) {
        out.extend(self.push_data(data));
    }

    fn is_done(&self) -> bool {
        self.saw_done || self.errored
    }
}

impl ToEvents {
    pub fn new() -> Self {
        Self::default()
    }

    /// The canonical events one SSE data payload gives.
    pub fn push_data(&mut self, data: &str) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        let data = data.trim();
        if data == "[DONE]" {
            self.saw_done = true;
            return out;
        }
        if self.errored {
            return out;
        }
        let chunk = match serde_json::from_str::<Chunk>(data) {
            Ok(c) => c,
            Err(e) => {
                self.errored = true;
                out.push(StreamEvent::Error {
                    kind: "upstream_error".into(),
                    message: format!("The upstream sent an invalid OpenAI stream chunk: {e}."),
                });
                return out;
            }
        };
        // An error chunk is checked first: a stream that fails before it began is a lone
        // `Error`.
        if let Some(e) = chunk.error {
            self.errored = true;
            out.push(StreamEvent::Error {
                kind: e.kind.unwrap_or_else(|| "upstream_error".into()),
                message: e
                    .message
                    .unwrap_or_else(|| "The upstream reported an error.".into()),
            });
            return out;
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: chunk.id.as_deref().unwrap_or_default().to_string(),
                model: chunk.model.as_deref().unwrap_or_default().to_string(),
            });
        }
        for choice in chunk.choices.into_iter().take(1) {
            if let Some(delta) = choice.delta {
                self.delta(delta, &mut out);
            }
            if let Some(reason) = choice.finish_reason.filter(|_| !self.finished) {
                self.finished = true;
                out.push(StreamEvent::Finish(StopReason::from_openai(&reason)));
            }
        }
        if let Some(u) = chunk.usage {
            out.push(StreamEvent::Usage(u.to_tokens()));
        }
        out
    }

    fn delta(&mut self, d: ChunkDelta<'_>, out: &mut Vec<StreamEvent>) {
        if let Some(r) = d.reasoning_content.filter(|r| !r.is_empty()) {
            out.push(StreamEvent::Reasoning(r.into_owned()));
        }
        if let Some(t) = d.content.filter(|t| !t.is_empty()) {
            out.push(StreamEvent::Text(t.into_owned()));
        }
        for (position, call) in d.tool_calls.into_iter().flatten().enumerate() {
            let upstream = call.index.unwrap_or(position);
            let (name, args) = match call.function {
                Some(f) => (f.name, f.arguments),
                None => (None, None),
            };
            let index = match self.calls.iter().position(|&u| u == upstream) {
                Some(i) => i,
                None => {
                    self.calls.push(upstream);
                    out.push(StreamEvent::ToolCallStart {
                        index: index_u32(self.calls.len() - 1),
                        id: call.id.as_deref().unwrap_or_default().to_string(),
                        name: name.as_deref().unwrap_or_default().to_string(),
                    });
                    self.calls.len() - 1
                }
            };
            if let Some(a) = args.filter(|a| !a.is_empty()) {
                out.push(StreamEvent::ToolCallArguments {
                    index: index_u32(index),
                    fragment: a.into_owned(),
                });
            }
        }
    }
}

fn index_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_primitives::TokenUsage;

    fn read(chunks: &[&str]) -> Vec<StreamEvent> {
        let mut r = ToEvents::new();
        chunks.iter().flat_map(|c| r.push_data(c)).collect()
    }

    #[test]
    fn text_chunks_become_start_text_finish_and_usage() {
        let ev = read(&[
            r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"Hel"}}]}"#,
            r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
            r#"{"id":"c1","model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":3}}}"#,
            "[DONE]",
        ]);
        assert_eq!(
            ev,
            vec![
                StreamEvent::Start {
                    id: "c1".into(),
                    model: "m".into()
                },
                StreamEvent::Text("Hel".into()),
                StreamEvent::Text("lo".into()),
                StreamEvent::Finish(StopReason::EndTurn),
                StreamEvent::Usage(TokenUsage::from_openai(5, 3, 2, 0)),
            ]
        );
    }

    #[test]
    fn tool_calls_start_once_each_and_stream_their_arguments() {
        let ev = read(&[
            r#"{"id":"c","choices":[{"delta":{"reasoning_content":"think"}}]}"#,
            r#"{"id":"c","choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}]}}]}"#,
            r#"{"id":"c","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"x\":"}}]}}]}"#,
            r#"{"id":"c","choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_b","function":{"name":"g","arguments":"{}"}}]}}]}"#,
            r#"{"id":"c","choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
        ]);
        assert_eq!(ev[1], StreamEvent::Reasoning("think".into()));
        assert_eq!(
            ev[2],
            StreamEvent::ToolCallStart {
                index: 0,
                id: "call_a".into(),
                name: "f".into()
            }
        );
        assert_eq!(
            ev[3],
            StreamEvent::ToolCallArguments {
                index: 0,
                fragment: "{\"x\":".into()
            }
        );
        assert_eq!(
            ev[4],
            StreamEvent::ToolCallStart {
                index: 1,
                id: "call_b".into(),
                name: "g".into()
            }
        );
        assert_eq!(ev[6], StreamEvent::Finish(StopReason::ToolUse));
    }

    #[test]
    fn an_error_chunk_ends_the_stream_and_nothing_follows() {
        let ev = read(&[
            r#"{"id":"c","choices":[{"delta":{"content":"a"}}]}"#,
            r#"{"error":{"type":"server_error","message":"boom"}}"#,
            r#"{"id":"c","choices":[{"delta":{"content":"b"}}]}"#,
        ]);
        assert_eq!(ev.len(), 3);
        assert_eq!(
            ev[2],
            StreamEvent::Error {
                kind: "server_error".into(),
                message: "boom".into()
            }
        );
    }

    #[test]
    fn done_gives_nothing_and_ends_the_stream() {
        let mut r = ToEvents::new();
        assert!(r.push_data("[DONE]").is_empty());
        assert!(r.is_done());
    }

    /// The hub's contract: data that is not a chunk is an `Error` that ends the stream (the
    /// OpenAI → Anthropic translator always answered it so), and an error before anything
    /// else is a lone `Error`.
    #[test]
    fn junk_is_a_lone_error_that_ends_the_stream() {
        let ev = read(&[
            "not json",
            r#"{"id":"c","choices":[{"delta":{"content":"b"}}]}"#,
        ]);
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert!(matches!(&ev[0], StreamEvent::Error { kind, .. } if kind == "upstream_error"));
        let ev = read(&[r#"{"error":{"message":"slow","type":"rate_limit_exceeded"}}"#]);
        assert_eq!(ev.len(), 1, "{ev:?}");
    }
}
