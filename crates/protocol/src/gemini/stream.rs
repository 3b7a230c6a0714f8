//! Gemini `streamGenerateContent?alt=sse` → OpenAI `chat.completion.chunk` stream, one chunk
//! at a time.
//!
//! Each Gemini SSE event's `data` is a whole `GenerateContentResponse` holding the parts
//! generated since the last one. [`ToOpenAi`] turns each into OpenAI payloads at once (nothing
//! is held back): the role first, then text, thoughts (as `reasoning_content`) and function
//! calls (each complete in one `tool_calls` delta, with a stable index), then the finish chunk
//! when a `finishReason` arrives, and the usage-only chunk if asked. The caller frames each as
//! `data: <payload>\n\n` and ends with `data: [DONE]\n\n` once [`ToOpenAi::is_done`].

use super::response::{
    GenerateContentResponse, ResponsePart, UsageMetadata, empty_object, stop_reason, tool_call_id,
};
use crate::canonical::chunk::{
    Chunk, ChunkDelta, FunctionDelta, ToolCallDelta, delta_chunk, encode,
};
use crate::canonical::{StopReason, openai_usage};
use crate::openai::ErrorBody;
use switchyard_primitives::TokenUsage;

/// How to write the OpenAI chunks.
#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    /// The Unix time every chunk reports as `created`.
    pub created: u64,
    /// The client asked for `stream_options.include_usage`: end with a usage-only chunk.
    pub include_usage: bool,
    /// The model name to report; the upstream's `modelVersion` when `None`.
    pub model: Option<String>,
}

/// The translator. See the module docs for framing.
#[derive(Debug)]
pub struct ToOpenAi {
    opts: StreamOptions,
    id: String,
    model: String,
    started: bool,
    next_tool: u32,
    usage: UsageMetadata,
    done: bool,
}

impl ToOpenAi {
    pub fn new(opts: StreamOptions) -> Self {
        ToOpenAi {
            model: opts.model.clone().unwrap_or_default(),
            opts,
            id: String::new(),
            started: false,
            next_tool: 0,
            usage: UsageMetadata::default(),
            done: false,
        }
    }

    /// The usage reported so far; final once [`is_done`](Self::is_done).
    pub fn usage(&self) -> TokenUsage {
        self.usage.to_tokens()
    }

    /// A chunk carrying a `finishReason` (or an error) has been seen: nothing more follows.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Parses and translates one event's `data`; data that is not a valid chunk ends the
    /// stream with an OpenAI error payload.
    pub fn push_data(&mut self, data: &str) -> Vec<String> {
        if self.done {
            return Vec::new();
        }
        match serde_json::from_str::<GenerateContentResponse>(data) {
            Ok(chunk) => self.push(chunk),
            Err(e) => self.fail(
                "upstream_error",
                &format!("The upstream sent an invalid Gemini stream chunk: {e}."),
            ),
        }
    }

    /// Translates one chunk into zero or more OpenAI payloads.
    pub fn push(&mut self, chunk: GenerateContentResponse) -> Vec<String> {
        if let Some(e) = chunk.error {
            let kind = if e.status.is_empty() {
                "upstream_error"
            } else {
                e.status.as_str()
            };
            return self.fail(kind, &format!("Gemini error {}: {}", e.code, e.message));
        }
        let mut out = Vec::new();
        if !self.started {
            self.start(&chunk);
            out.push(self.chunk(
                ChunkDelta {
                    role: Some("assistant"),
                    content: Some(""),
                    ..ChunkDelta::default()
                },
                None,
            ));
        }
        if let Some(u) = chunk.usage_metadata {
            // Each chunk's usage is cumulative; the last one is final.
            self.usage = u;
        }
        let blocked = chunk.prompt_feedback.and_then(|f| f.block_reason).is_some();
        let candidate = chunk.candidates.into_iter().next().unwrap_or_default();
        for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
            out.extend(self.part(part));
        }
        let reason = match candidate.finish_reason.as_deref() {
            Some(r) => Some(stop_reason(r, self.next_tool > 0)),
            None if blocked => Some(StopReason::ContentFilter),
            None => None,
        };
        if let Some(reason) = reason {
            out.extend(self.finish(&reason));
        }
        out
    }

    fn start(&mut self, chunk: &GenerateContentResponse) {
        self.started = true;
        self.id = chunk.response_id.clone().unwrap_or_default();
        if self.opts.model.is_none() {
            self.model = chunk.model_version.clone().unwrap_or_default();
        }
    }

    fn part(&mut self, p: ResponsePart) -> Option<String> {
        if let Some(call) = p.function_call {
            let index = self.next_tool;
            self.next_tool += 1;
            let id = tool_call_id(call.id, index, p.thought_signature.as_deref());
            let args = call.args.unwrap_or_else(empty_object);
            let delta = ChunkDelta {
                tool_calls: Some([ToolCallDelta {
                    index,
                    id: Some(&id),
                    kind: Some("function"),
                    function: FunctionDelta {
                        name: Some(&call.name),
                        arguments: args.get(),
                    },
                }]),
                ..ChunkDelta::default()
            };
            return Some(self.chunk(delta, None));
        }
        let text = p.text.filter(|t| !t.is_empty())?;
        let delta = if p.thought {
            ChunkDelta {
                reasoning_content: Some(&text),
                ..ChunkDelta::default()
            }
        } else {
            ChunkDelta {
                content: Some(&text),
                ..ChunkDelta::default()
            }
        };
        Some(self.chunk(delta, None))
    }

    fn finish(&mut self, reason: &StopReason) -> Vec<String> {
        self.done = true;
        let mut out = vec![self.chunk(ChunkDelta::default(), Some(reason.to_openai()))];
        if self.opts.include_usage {
            out.push(self.encode(&Chunk {
                id: &self.id,
                object: "chat.completion.chunk",
                created: self.opts.created,
                model: &self.model,
                choices: Vec::new(),
                usage: Some(openai_usage(&self.usage.to_tokens())),
            }));
        }
        out
    }

    fn fail(&mut self, kind: &str, message: &str) -> Vec<String> {
        self.done = true;
        let body = ErrorBody::new(kind, None, None, message.to_string());
        vec![String::from_utf8(body.to_json()).unwrap_or_default()]
    }

    fn chunk(&self, delta: ChunkDelta<'_>, finish_reason: Option<&'static str>) -> String {
        delta_chunk(
            (&self.id, self.opts.created, &self.model),
            delta,
            finish_reason,
        )
    }

    fn encode(&self, chunk: &Chunk<'_>) -> String {
        encode(chunk)
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
