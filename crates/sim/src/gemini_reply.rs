//! Rendering a planned Gemini answer: one GenerateContentResponse, or streamed chunks as SSE
//! `data:` frames or as one JSON array written piece by piece.

use crate::common::{self, Finish, Frame, Outcome};
use crate::gemini_signature;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

/// A planned answer with what is needed to render it.
pub(crate) struct Reply {
    pub id: String,
    pub model: String,
    pub prompt_tokens: u64,
    /// Prompt tokens served by implicit caching (see `cache`).
    pub cached_tokens: u64,
    pub include_thoughts: bool,
    /// A Gemini 3 model: it signs its function calls even when it did not think.
    pub signs: bool,
    pub outcome: Outcome,
}

impl Reply {
    fn finish_reason(&self) -> &'static str {
        match self.outcome.finish {
            Finish::Limit => "MAX_TOKENS",
            _ => "STOP",
        }
    }

    fn usage(&self) -> Value {
        let (p, o, t) = (
            self.prompt_tokens,
            self.outcome.visible_tokens(),
            self.outcome.thought_tokens(),
        );
        let mut u = json!({"promptTokenCount": p, "candidatesTokenCount": o, "totalTokenCount": p + o + t,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": p}]});
        let cached = self.cached_tokens.min(p);
        if cached > 0 {
            u["cachedContentTokenCount"] = json!(cached);
            u["cacheTokensDetails"] = json!([{"modality": "TEXT", "tokenCount": cached}]);
        }
        if t > 0 {
            u["thoughtsTokenCount"] = json!(t);
        }
        u
    }

    fn thought_part(&self) -> Option<Value> {
        (self.include_thoughts && !self.outcome.thoughts.is_empty())
            .then(|| json!({"text": self.outcome.thoughts.concat(), "thought": true}))
    }

    /// The step's calls; the first is signed (as Gemini signs only the first of parallel
    /// calls) when the model thought or is a Gemini 3 model.
    fn call_parts(&self) -> Vec<Value> {
        let signed = self.signs || !self.outcome.thoughts.is_empty();
        self.outcome
            .calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut part = json!({"functionCall": {"name": c.name, "args": c.args}});
                if signed && i == 0 {
                    part["thoughtSignature"] = json!(gemini_signature::sign(&c.name, c.key));
                }
                part
            })
            .collect()
    }

    fn response(&self, parts: Vec<Value>, finish: bool, usage: Value) -> Value {
        let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
        if finish {
            candidate["finishReason"] = json!(self.finish_reason());
        }
        json!({"candidates": [candidate], "usageMetadata": usage, "modelVersion": self.model,
            "responseId": self.id})
    }

    pub fn whole(&self) -> Value {
        let mut parts: Vec<Value> = self.thought_part().into_iter().collect();
        if !self.outcome.text.is_empty() {
            parts.push(json!({"text": self.outcome.text.concat()}));
        }
        parts.extend(self.call_parts());
        self.response(parts, true, self.usage())
    }
}

/// Chunks of parts with the tokens each takes to generate; thinking delays the first chunk.
fn pieces(r: &Reply) -> Vec<(Vec<Value>, u32)> {
    let mut out: Vec<(Vec<Value>, u32)> = Vec::new();
    let thoughts = r.outcome.thought_tokens() as u32;
    if let Some(p) = r.thought_part() {
        out.push((vec![p], thoughts));
    }
    out.extend(
        r.outcome
            .text
            .chunks(8)
            .map(|c| (vec![json!({"text": c.concat()})], c.len() as u32)),
    );
    if !r.outcome.calls.is_empty() {
        out.push((r.call_parts(), r.outcome.visible_tokens() as u32));
    }
    if r.thought_part().is_none()
        && let Some(first) = out.first_mut()
    {
        first.1 += thoughts;
    }
    out
}

/// `streamGenerateContent`: SSE `data:` frames, or one JSON array written piece by piece.
pub(crate) fn stream(
    r: &Reply,
    b: crate::config::Behaviour,
    disconnect: bool,
    sse: bool,
) -> Response {
    let pieces = pieces(r);
    let last = pieces.len().saturating_sub(1);
    let interim = json!({"promptTokenCount": r.prompt_tokens, "totalTokenCount": r.prompt_tokens});
    let frames: Vec<Frame> = pieces
        .into_iter()
        .enumerate()
        .map(|(i, (parts, tokens))| {
            let usage = if i == last {
                r.usage()
            } else {
                interim.clone()
            };
            let body = r.response(parts, i == last, usage);
            let text = match (sse, i, i == last) {
                (true, _, _) => format!("data: {body}\r\n\r\n"),
                (false, 0, true) => format!("[{body}]"),
                (false, 0, false) => format!("[{body}"),
                (false, _, true) => format!(",\r\n{body}]"),
                (false, _, false) => format!(",\r\n{body}"),
            };
            Frame {
                bytes: Bytes::from(text),
                tokens,
            }
        })
        .collect();
    let content_type = if sse {
        "text/event-stream"
    } else {
        "application/json"
    };
    common::paced(frames, b, disconnect, content_type)
}
