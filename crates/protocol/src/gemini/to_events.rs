//! Gemini `streamGenerateContent?alt=sse` chunks → canonical [`StreamEvent`]s: the Gemini
//! upstream's reader.
//!
//! Each SSE event's `data` is a whole `GenerateContentResponse` holding the parts generated
//! since the last one. The first is the start (`responseId`, `modelVersion`); text parts are
//! text, thought parts reasoning, each function call a tool call complete in one event pair
//! (start, then its whole arguments), numbered from 0 across chunks, its thought signature
//! carried in the tool-call id (see `signature`); `usageMetadata` (cumulative) is the usage;
//! a `finishReason`, or a prompt blocked by `promptFeedback`, finishes the stream, and an
//! `error` member fails it. Signatures on text parts are not needed back and are dropped.

use super::response::{
    GenerateContentResponse, ResponsePart, empty_object, stop_reason, tool_call_id,
};
use crate::canonical::StopReason;
use crate::canonical::event::StreamEvent;
use crate::canonical::translate::Read;

/// The reader. See the module docs.
#[derive(Debug, Default)]
pub struct Reader {
    started: bool,
    next_tool: u32,
    done: bool,
}

impl Read for Reader {
    fn read(&mut self, data: &str, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        match serde_json::from_str::<GenerateContentResponse>(data) {
            Ok(chunk) => self.chunk(chunk, out),
            Err(e) => self.fail(
                "upstream_error".into(),
                format!("The upstream sent an invalid Gemini stream chunk: {e}."),
                out,
            ),
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

impl Reader {
    fn chunk(&mut self, chunk: GenerateContentResponse, out: &mut Vec<StreamEvent>) {
        if let Some(e) = chunk.error {
            let kind = if e.status.is_empty() {
                "upstream_error".to_string()
            } else {
                e.status
            };
            let message = format!("Gemini error {}: {}", e.code, e.message);
            return self.fail(kind, message, out);
        }
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                id: chunk.response_id.unwrap_or_default(),
                model: chunk.model_version.unwrap_or_default(),
            });
        }
        if let Some(u) = chunk.usage_metadata {
            out.push(StreamEvent::Usage(u.to_tokens()));
        }
        let blocked = chunk.prompt_feedback.and_then(|f| f.block_reason).is_some();
        let candidate = chunk.candidates.into_iter().next().unwrap_or_default();
        for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
            self.part(part, out);
        }
        let reason = match candidate.finish_reason.as_deref() {
            Some(r) => Some(stop_reason(r, self.next_tool > 0)),
            None if blocked => Some(StopReason::ContentFilter),
            None => None,
        };
        if let Some(reason) = reason {
            self.done = true;
            out.push(StreamEvent::Finish(reason));
        }
    }

    fn part(&mut self, p: ResponsePart, out: &mut Vec<StreamEvent>) {
        if let Some(call) = p.function_call {
            let index = self.next_tool;
            self.next_tool += 1;
            let id = tool_call_id(call.id, index, p.thought_signature.as_deref());
            let args = call.args.unwrap_or_else(empty_object);
            out.push(StreamEvent::ToolCallStart {
                index,
                id,
                name: call.name,
            });
            out.push(StreamEvent::ToolCallArguments {
                index,
                fragment: args.get().to_string(),
            });
            return;
        }
        let Some(text) = p.text.filter(|t| !t.is_empty()) else {
            return;
        };
        out.push(if p.thought {
            StreamEvent::Reasoning(text)
        } else {
            StreamEvent::Text(text)
        });
    }

    fn fail(&mut self, kind: String, message: String, out: &mut Vec<StreamEvent>) {
        self.done = true;
        out.push(StreamEvent::Error { kind, message });
    }
}
