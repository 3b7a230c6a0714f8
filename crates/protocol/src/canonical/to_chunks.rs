//! Canonical stream events → OpenAI `chat.completion.chunk` payloads: the OpenAI client's
//! renderer, whatever the upstream's dialect.
//!
//! The role chunk at [`StreamEvent::Start`]; one chunk per text or reasoning fragment; a tool
//! call's start (id, type, name) and the arguments that arrive with it in one chunk, later
//! fragments in their own; the finish chunk at [`StreamEvent::Finish`]; the usage-only chunk
//! at the end when the client asked for it; an OpenAI error payload for
//! [`StreamEvent::Error`]. Each payload is framed `data: <payload>\n\n`, and
//! `data: [DONE]\n\n` follows the last.

use super::chunk::{Chunk, ChunkDelta, FunctionDelta, ToolCallDelta, delta_chunk, encode};
use super::event::StreamEvent;
use super::translate::{Render, StreamOptions};
use super::{StopReason, openai_usage};
use crate::openai::ErrorBody;
use switchyard_primitives::TokenUsage;

/// The renderer. See the module docs.
#[derive(Debug)]
pub struct ChunkWriter {
    opts: StreamOptions,
    id: String,
    model: String,
    /// A tool call's start, held until the events of its upstream event are all read.
    pending: Option<(u32, String, String, String)>,
    usage: TokenUsage,
    finished: bool,
    ended: bool,
}

impl ChunkWriter {
    pub fn new(opts: StreamOptions) -> Self {
        ChunkWriter {
            model: opts.model.clone().unwrap_or_default(),
            opts,
            id: String::new(),
            pending: None,
            usage: TokenUsage::default(),
            finished: false,
            ended: false,
        }
    }

    fn chunk(&self, delta: ChunkDelta<'_>, finish_reason: Option<&'static str>) -> String {
        delta_chunk(
            (&self.id, self.opts.created, &self.model),
            delta,
            finish_reason,
        )
    }

    fn tool_chunk(&self, call: ToolCallDelta<'_>) -> String {
        let delta = ChunkDelta {
            tool_calls: Some([call]),
            ..ChunkDelta::default()
        };
        self.chunk(delta, None)
    }

    fn start(&mut self, id: String, model: String, out: &mut Vec<String>) {
        self.id = id;
        if self.opts.model.is_none() {
            self.model = model;
        }
        let delta = ChunkDelta {
            role: Some("assistant"),
            content: Some(""),
            ..ChunkDelta::default()
        };
        out.push(self.chunk(delta, None));
    }

    fn arguments(&mut self, index: u32, fragment: &str, out: &mut Vec<String>) {
        if let Some((i, id, name, mut args)) = self.pending.take() {
            if i == index {
                args.push_str(fragment);
                self.pending = Some((i, id, name, args));
                return;
            }
            self.pending = Some((i, id, name, args));
            self.flush(out);
        }
        out.push(self.tool_chunk(ToolCallDelta {
            index,
            id: None,
            kind: None,
            function: FunctionDelta {
                name: None,
                arguments: fragment,
            },
        }));
    }

    fn finish(&mut self, reason: &StopReason, out: &mut Vec<String>) {
        if !self.finished {
            self.finished = true;
            out.push(self.chunk(ChunkDelta::default(), Some(reason.to_openai())));
        }
    }
}

impl Render for ChunkWriter {
    fn render(&mut self, ev: StreamEvent, out: &mut Vec<String>) {
        if self.ended {
            return;
        }
        if !matches!(
            ev,
            StreamEvent::ToolCallArguments { .. } | StreamEvent::Usage(_)
        ) {
            self.flush(out);
        }
        match ev {
            StreamEvent::Start { id, model } => self.start(id, model, out),
            StreamEvent::Text(t) => out.push(self.chunk(
                ChunkDelta {
                    content: Some(&t),
                    ..ChunkDelta::default()
                },
                None,
            )),
            StreamEvent::Reasoning(t) => out.push(self.chunk(
                ChunkDelta {
                    reasoning_content: Some(&t),
                    ..ChunkDelta::default()
                },
                None,
            )),
            // OpenAI's chunks have no place for a signature.
            StreamEvent::ReasoningSignature(_) => {}
            StreamEvent::ToolCallStart { index, id, name } => {
                self.pending = Some((index, id, name, String::new()));
            }
            StreamEvent::ToolCallArguments { index, fragment } => {
                self.arguments(index, &fragment, out);
            }
            StreamEvent::Finish(reason) => self.finish(&reason, out),
            StreamEvent::Usage(u) => self.usage = u,
            StreamEvent::Error { kind, message } => {
                self.ended = true;
                let body = ErrorBody::new(&kind, None, None, message);
                out.push(String::from_utf8(body.to_json()).unwrap_or_default());
            }
        }
    }

    fn flush(&mut self, out: &mut Vec<String>) {
        if let Some((index, id, name, args)) = self.pending.take() {
            out.push(self.tool_chunk(ToolCallDelta {
                index,
                id: Some(&id),
                kind: Some("function"),
                function: FunctionDelta {
                    name: Some(&name),
                    arguments: &args,
                },
            }));
        }
    }

    fn end(&mut self, out: &mut Vec<String>) {
        if self.ended {
            return;
        }
        self.flush(out);
        self.ended = true;
        if self.opts.include_usage {
            out.push(encode(&Chunk {
                id: &self.id,
                object: "chat.completion.chunk",
                created: self.opts.created,
                model: &self.model,
                choices: Vec::new(),
                usage: Some(openai_usage(&self.usage)),
            }));
        }
    }

    /// Nothing: an OpenAI client sees a stream without a finish reason or `[DONE]`, as
    /// the upstream left it.
    fn cut(&mut self, out: &mut Vec<String>) {
        self.flush(out);
        self.ended = true;
    }

    fn frame(item: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(item.as_bytes());
        out.extend_from_slice(b"\n\n");
    }

    const DONE: Option<&'static [u8]> = Some(b"data: [DONE]\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(index: u32) -> StreamEvent {
        StreamEvent::ToolCallStart {
            index,
            id: format!("call_{index}"),
            name: "get".into(),
        }
    }

    fn args(index: u32, fragment: &str) -> StreamEvent {
        StreamEvent::ToolCallArguments {
            index,
            fragment: fragment.into(),
        }
    }

    fn calls(out: &[String]) -> Vec<serde_json::Value> {
        out.iter()
            .map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap())
            .map(|v| v["choices"][0]["delta"]["tool_calls"][0].clone())
            .collect()
    }

    #[test]
    fn a_start_and_the_arguments_of_one_upstream_event_are_one_chunk() {
        let mut w = ChunkWriter::new(StreamOptions::default());
        let mut out = Vec::new();
        for ev in [
            start(0),
            args(0, "{\"a\""),
            args(0, ":1}"),
            start(1),
            args(1, "{}"),
        ] {
            w.render(ev, &mut out);
        }
        w.flush(&mut out);
        let c = calls(&out);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0]["id"], "call_0");
        assert_eq!(c[0]["function"]["arguments"], "{\"a\":1}");
        assert_eq!(c[1]["index"], 1);
        assert_eq!(c[1]["function"]["arguments"], "{}");
    }

    #[test]
    fn a_start_is_written_when_its_upstream_event_ends_and_later_fragments_alone() {
        let mut w = ChunkWriter::new(StreamOptions::default());
        let mut out = Vec::new();
        w.render(start(0), &mut out);
        w.flush(&mut out);
        assert_eq!(out.len(), 1, "not held past its upstream event");
        w.render(args(0, "{}"), &mut out);
        let c = calls(&out);
        assert_eq!(c[0]["function"]["arguments"], "");
        assert_eq!(c[0]["type"], "function");
        assert_eq!(c[1]["function"]["arguments"], "{}");
        assert!(c[1].get("id").is_none() && c[1].get("type").is_none());
    }

    #[test]
    fn the_usage_chunk_comes_once_at_the_end_and_never_after_an_error() {
        let opts = StreamOptions {
            include_usage: true,
            ..StreamOptions::default()
        };
        let mut w = ChunkWriter::new(opts.clone());
        let mut out = Vec::new();
        w.render(StreamEvent::Finish(StopReason::EndTurn), &mut out);
        w.render(
            StreamEvent::Usage(TokenUsage {
                input: 3,
                output: 2,
                ..TokenUsage::default()
            }),
            &mut out,
        );
        w.end(&mut out);
        w.end(&mut out);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[1].contains("\"prompt_tokens\":3"), "{}", out[1]);
        let mut failed = ChunkWriter::new(opts);
        let mut out = Vec::new();
        let error = StreamEvent::Error {
            kind: "upstream_error".into(),
            message: "gone".into(),
        };
        failed.render(error, &mut out);
        failed.end(&mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].starts_with("{\"error\""), "{}", out[0]);
    }
}
