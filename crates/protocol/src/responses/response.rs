//! The Responses `response` object, written from canonical answers, and its `usage` read back.
//!
//! `output` holds one item per piece of the answer in order: `reasoning` (the thinking text as
//! its `summary`), `message` (the visible text as one `output_text` part) and `function_call`
//! items. `output_text` is not a wire member (OpenAI's SDKs compute it from `output`), so it
//! is not written. A provider's reasoning signature (Anthropic's thinking signature) is carried
//! in the reasoning item's `encrypted_content` as [`SIGNATURE_PREFIX`] + signature, and read back
//! by [`super::items`] on the next turn; Gemini's thought signatures already travel in the
//! function call's `call_id` (`gemini::signature`).
//!
//! The request's own settings (`instructions`, `tools`, `metadata`, …) are echoed from its raw
//! members ([`Echo`]), as OpenAI's answer does.

use crate::canonical::{Block, ChatResponse, StopReason};
use crate::openai::RawObject;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use switchyard_primitives::TokenUsage;

/// Marks an `encrypted_content` Switchyard wrote around a provider's reasoning signature.
pub const SIGNATURE_PREFIX: &str = "swy1:";

/// The response id and the ids of its output items, derived from it.
#[derive(Debug, Clone)]
pub struct Ids {
    pub response: String,
}

impl Ids {
    /// `resp_<base>`, where `base` is unique per request (the gateway's request id).
    pub fn new(base: &str) -> Self {
        let clean: String = base.chars().filter(char::is_ascii_alphanumeric).collect();
        Ids {
            response: format!("resp_{clean}"),
        }
    }

    fn base(&self) -> &str {
        self.response.trim_start_matches("resp_")
    }

    /// The id of output item `index` of kind `prefix` (`msg`, `fc`, `rs`).
    pub fn item(&self, prefix: &str, index: usize) -> String {
        format!("{prefix}_{}{index:02}", self.base())
    }
}

/// The request's settings echoed in the response object, raw; absent ones get OpenAI's defaults.
#[derive(Debug, Default, Clone, Copy)]
pub struct Echo<'a> {
    members: [Option<&'a RawValue>; ECHOED.len()],
}

const ECHOED: [(&str, &str); 13] = [
    ("instructions", "null"),
    ("max_output_tokens", "null"),
    ("metadata", "{}"),
    ("parallel_tool_calls", "true"),
    ("previous_response_id", "null"),
    ("reasoning", r#"{"effort":null,"summary":null}"#),
    ("store", "true"),
    ("temperature", "1.0"),
    ("text", r#"{"format":{"type":"text"}}"#),
    ("tool_choice", r#""auto""#),
    ("tools", "[]"),
    ("top_p", "1.0"),
    ("truncation", r#""disabled""#),
];

impl<'a> Echo<'a> {
    pub fn of(raw: &RawObject<'a>) -> Self {
        let mut e = Echo::default();
        for (slot, (name, _)) in e.members.iter_mut().zip(ECHOED) {
            *slot = raw.get(name);
        }
        e
    }

    /// `,"name":value` for each echoed member, owned, for a stream that outlives the body.
    pub fn fragment(&self) -> String {
        let mut out = String::new();
        for (v, (name, default)) in self.members.iter().zip(ECHOED) {
            out.push_str(",\"");
            out.push_str(name);
            out.push_str("\":");
            out.push_str(v.map_or(default, |v| v.get()));
        }
        out
    }
}

/// One `output` item.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputItem {
    Reasoning {
        id: String,
        summary: Vec<SummaryText>,
        #[serde(skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<String>,
    },
    Message {
        id: String,
        status: &'static str,
        role: &'static str,
        content: Vec<OutputText>,
    },
    FunctionCall {
        id: String,
        call_id: String,
        name: String,
        arguments: String,
        status: &'static str,
    },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SummaryText {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
}

impl SummaryText {
    pub fn new(text: String) -> Self {
        SummaryText {
            kind: "summary_text",
            text,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutputText {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
    pub annotations: [(); 0],
}

impl OutputText {
    pub fn new(text: String) -> Self {
        OutputText {
            kind: "output_text",
            text,
            annotations: [],
        }
    }
}

/// The Responses `usage` object: `input_tokens` includes cached ones, `output_tokens`
/// includes reasoning ones, as OpenAI counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub input_tokens_details: InputDetails,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub output_tokens_details: OutputDetails,
    #[serde(default)]
    pub total_tokens: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct InputDetails {
    #[serde(default)]
    pub cached_tokens: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OutputDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl Usage {
    pub fn of(u: &TokenUsage) -> Self {
        Usage {
            input_tokens: u.prompt_total(),
            input_tokens_details: InputDetails {
                cached_tokens: u.cached_input,
            },
            output_tokens: u.completion_total(),
            output_tokens_details: OutputDetails {
                reasoning_tokens: u.reasoning,
            },
            total_tokens: u.total(),
        }
    }

    pub fn to_tokens(&self) -> TokenUsage {
        TokenUsage::from_openai(
            self.input_tokens,
            self.input_tokens_details.cached_tokens,
            self.output_tokens,
            self.output_tokens_details.reasoning_tokens,
        )
    }
}

/// The usage of a whole Responses answer (its top-level `usage`), if it reports one.
pub fn usage_of(body: &[u8]) -> Option<TokenUsage> {
    let text = std::str::from_utf8(body).ok()?;
    let raw = crate::scan::top_level_member(text, "usage")?;
    serde_json::from_str::<Option<Usage>>(raw)
        .ok()
        .flatten()
        .map(|u| u.to_tokens())
}

/// A response object's state, as the whole answer and the stream's bracketing events write it.
pub struct Snapshot<'s> {
    pub ids: &'s Ids,
    pub model: &'s str,
    pub created_at: u64,
    /// `in_progress`, `completed`, `incomplete` or `failed`.
    pub status: &'static str,
    pub output: &'s [OutputItem],
    pub usage: Option<Usage>,
    /// `incomplete_details.reason`, for an incomplete answer.
    pub incomplete: Option<&'static str>,
    /// `error` `(code, message)`, for a failed one.
    pub error: Option<(&'s str, &'s str)>,
    /// The request's echoed settings, [`Echo::fragment`].
    pub echo: &'s str,
}

impl Snapshot<'_> {
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(512);
        out.push_str("{\"id\":");
        out.push_str(&json(&self.ids.response));
        out.push_str(",\"object\":\"response\",\"created_at\":");
        out.push_str(&self.created_at.to_string());
        out.push_str(",\"status\":\"");
        out.push_str(self.status);
        out.push_str("\",\"error\":");
        out.push_str(&match self.error {
            Some((code, message)) => {
                format!("{{\"code\":{},\"message\":{}}}", json(code), json(message))
            }
            None => "null".into(),
        });
        out.push_str(",\"incomplete_details\":");
        out.push_str(&match self.incomplete {
            Some(r) => format!("{{\"reason\":\"{r}\"}}"),
            None => "null".into(),
        });
        out.push_str(",\"model\":");
        out.push_str(&json(self.model));
        out.push_str(",\"output\":");
        out.push_str(&serde_json::to_string(self.output).unwrap_or_else(|_| "[]".into()));
        out.push_str(",\"usage\":");
        out.push_str(&match &self.usage {
            Some(u) => serde_json::to_string(u).unwrap_or_else(|_| "null".into()),
            None => "null".into(),
        });
        out.push_str(",\"user\":null");
        out.push_str(self.echo);
        out.push('}');
        out
    }
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The status and `incomplete_details.reason` a stop reason gives.
pub fn status_of(stop: &StopReason) -> (&'static str, Option<&'static str>) {
    match stop {
        StopReason::MaxTokens => ("incomplete", Some("max_output_tokens")),
        StopReason::ContentFilter => ("incomplete", Some("content_filter")),
        _ => ("completed", None),
    }
}

/// The output items of a canonical answer: consecutive text blocks form one message.
pub fn output_items(content: &[Block], ids: &Ids) -> Vec<OutputItem> {
    let mut out: Vec<OutputItem> = Vec::new();
    for block in content {
        let index = out.len();
        match block {
            Block::Thinking { text, signature } => out.push(OutputItem::Reasoning {
                id: ids.item("rs", index),
                summary: vec![SummaryText::new(text.clone())],
                encrypted_content: signature.as_ref().map(|s| format!("{SIGNATURE_PREFIX}{s}")),
            }),
            Block::Text { text, .. } => match out.last_mut() {
                Some(OutputItem::Message { content, .. }) => {
                    content.push(OutputText::new(text.clone()))
                }
                _ => out.push(OutputItem::Message {
                    id: ids.item("msg", index),
                    status: "completed",
                    role: "assistant",
                    content: vec![OutputText::new(text.clone())],
                }),
            },
            Block::ToolUse {
                id, name, input, ..
            } => out.push(OutputItem::FunctionCall {
                id: ids.item("fc", index),
                call_id: id.clone(),
                name: name.clone(),
                arguments: input.get().to_string(),
                status: "completed",
            }),
            _ => {}
        }
    }
    out
}

/// A whole canonical answer as a Responses `response` object.
pub fn render(resp: &ChatResponse, ids: &Ids, echo: &Echo<'_>, created_at: u64) -> Vec<u8> {
    let output = output_items(&resp.content, ids);
    let (status, incomplete) = status_of(&resp.stop_reason);
    Snapshot {
        ids,
        model: &resp.model,
        created_at,
        status,
        output: &output,
        usage: Some(Usage::of(&resp.usage)),
        incomplete,
        error: None,
        echo: &echo.fragment(),
    }
    .to_json()
    .into_bytes()
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
