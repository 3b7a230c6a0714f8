//! `POST /v1/responses`: clients speaking OpenAI's Responses API.
//!
//! The body is parsed once into `protocol::responses::Request` (raw members and canonical
//! form) and sent as `Payload::Responses`. A target that speaks the Responses API (an OpenAI
//! provider, or one configured with `responses_api = true`) gets the raw body with only `model`
//! rewritten and answers untranslated (`Dialect::Responses`): the answer is forwarded byte for
//! byte, usage read from its `usage` (a stream's from `response.completed`). Every other target
//! answers in its own shape — OpenAI chat from OpenAI-compatible servers, Anthropic's and
//! Gemini's own from those adapters (`Dialect::Anthropic` / `Dialect::Gemini`, untranslated) —
//! and is translated once: a whole answer parsed into canonical form and rendered as a
//! Responses object, a stream read by its dialect's canonical-event reader and rendered as
//! the typed Responses events, event by event (`responses_stream`), never through OpenAI
//! chunks.

use super::responses_stream::{SharedUsage, rendered};
use super::{Codec, Shape};
use crate::answered::{Answered, Whole};
use crate::error::GatewayError;
use crate::observe;
use crate::reply::{Reply, RequestContext};
use crate::reserve::PromptBound;
use crate::stream::{EventReader, Progress, Tee};
use crate::tokens;
use bytes::{Bytes, BytesMut};
use std::time::Instant;
use switchyard_ledger::RecordKind;
use switchyard_primitives::TokenUsage;
use switchyard_protocol::FieldError;
use switchyard_protocol::anthropic::from_openai::parse_openai_response;
use switchyard_protocol::canonical::{Block, ChatResponse, ResponseFormat};
use switchyard_protocol::openai::usage_of;
use switchyard_protocol::responses::{self, Echo, Ids, Renderer, Request};
use switchyard_protocol::sse::SseEvent;
use switchyard_protocol::{anthropic, gemini};
use switchyard_providers::{Dialect, Payload, ProviderResponse, ResponseBody};

pub(crate) struct Responses;

tokio::task_local! {
    /// Set by `responses_api` around the pipeline: the answer stage leaves the request's
    /// `store` flag and input items here, so the conversation is kept without parsing the
    /// body a second time.
    pub(crate) static STORED: std::cell::RefCell<Option<(bool, String)>>;
}

impl Codec for Responses {
    const KIND: RecordKind = RecordKind::Responses;
    const OBSERVED: Option<observe::Dialect> = None;
    type Request<'b> = Request<'b>;

    fn parse(body: &Bytes) -> Result<Request<'_>, FieldError> {
        responses::parse(body)
    }

    fn model<'r>(req: &'r Request<'_>) -> &'r str {
        &req.canonical.model
    }

    fn shape(req: &Request<'_>, body_len: usize) -> Shape {
        let c = &req.canonical;
        let features = features(req);
        Shape {
            bound: PromptBound::of_canonical(body_len, c),
            max_output: c.max_tokens,
            demand: tokens::Demand {
                body_len,
                max_output: c.max_tokens,
                stream: c.stream,
                tools: !c.tools.is_empty(),
                vision: features.contains("vision"),
                json_schema: matches!(c.response_format, ResponseFormat::JsonSchema { .. }),
            },
            streamed: c.stream,
            features,
            prefix: crate::prompt_cache::canonical_prefix(c),
        }
    }

    fn prompt_tokens(req: &Request<'_>) -> u64 {
        tokens::count_canonical_prompt(&req.canonical)
    }

    fn payload<'a>(req: &'a Request<'_>, _: &'a Bytes, _: &'a RequestContext) -> Payload<'a> {
        Payload::Responses(req)
    }

    fn answer(
        a: Answered<'_>,
        req: &Request<'_>,
        response: ProviderResponse,
    ) -> Result<Reply, GatewayError> {
        let _ = STORED.try_with(|s| {
            let input = match req.store {
                true => responses::state::input_items(&req.raw),
                false => String::new(),
            };
            *s.borrow_mut() = Some((req.store, input));
        });
        match (response.dialect, response.body) {
            (Dialect::Responses, ResponseBody::Full(bytes)) => {
                Ok(passthrough_whole(a, req, response.content_type, bytes))
            }
            (Dialect::Responses, ResponseBody::Stream(s)) => {
                let reader = ResponsesReader::default();
                Ok(a.stream(200, |setup| Box::pin(Tee::new(s, reader, setup))))
            }
            (dialect, ResponseBody::Full(bytes)) => translate_whole(a, req, dialect, bytes),
            (dialect, ResponseBody::Stream(s)) => {
                let ids = Ids::new(&a.request_id());
                let renderer = Renderer::new(
                    ids,
                    req.canonical.model.clone(),
                    now_secs(),
                    Echo::of(&req.raw).fragment(),
                );
                let usage = SharedUsage::default();
                let s = rendered(s, dialect, renderer, usage.clone());
                let reader = ResponsesReader {
                    canonical: Some(usage),
                };
                Ok(a.stream(200, |setup| Box::pin(Tee::new(s, reader, setup))))
            }
        }
    }
}

/// The features the ledger records, as the Messages codec words them.
fn features(req: &Request<'_>) -> String {
    let c = &req.canonical;
    let mut f = Vec::new();
    if !c.tools.is_empty() || req.raw.get("tools").is_some() {
        f.push("tools");
    }
    match c.response_format {
        ResponseFormat::JsonSchema { .. } => f.push("json_schema"),
        ResponseFormat::JsonObject => f.push("json_object"),
        ResponseFormat::Text => {}
    }
    let vision = c
        .messages
        .iter()
        .flat_map(|t| &t.content)
        .any(|b| matches!(b, Block::Image { .. }));
    if vision {
        f.push("vision");
    }
    f.join(",")
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A Responses target's whole answer, forwarded byte for byte.
fn passthrough_whole(
    mut a: Answered<'_>,
    req: &Request<'_>,
    content_type: Option<String>,
    bytes: Bytes,
) -> Reply {
    let usage = match responses::usage_of(&bytes) {
        Some(u) => (u, false),
        None => (estimate(req, ""), true),
    };
    a.mark_usage_read();
    a.finish_whole(
        usage,
        Whole {
            status: 200,
            content_type: content_type.or_else(|| Some("application/json".into())),
            observed: observe::Output::OpenAi(Bytes::new()),
            body: bytes,
        },
    )
}

/// A whole answer in its upstream's shape (OpenAI chat, or an Anthropic or Gemini target's
/// own), read into canonical form once and rendered as a Responses object.
fn translate_whole(
    mut a: Answered<'_>,
    req: &Request<'_>,
    dialect: Dialect,
    bytes: Bytes,
) -> Result<Reply, GatewayError> {
    let parsed = match dialect {
        Dialect::Anthropic => anthropic::parse_response(&bytes),
        Dialect::Gemini => gemini::parse_response(&bytes),
        Dialect::OpenAi | Dialect::Responses => parse_openai_response(&bytes),
    };
    let mut answer = parsed.map_err(|e| GatewayError::UpstreamFailed {
        route: a.route_name().to_string(),
        timed_out: false,
        summary: e.message,
    })?;
    let reported = match dialect {
        Dialect::OpenAi | Dialect::Responses => usage_of(&bytes).map(|u| u.to_tokens()),
        _ => Some(answer.usage).filter(|u| *u != TokenUsage::default()),
    };
    let usage = match reported {
        Some(u) => (u, false),
        None => (estimate(req, &answer_text(&answer)), true),
    };
    a.mark_usage_read();
    answer.model = req.canonical.model.clone();
    answer.usage = usage.0;
    let ids = Ids::new(&a.request_id());
    let rendered = Bytes::from(responses::render(
        &answer,
        &ids,
        &Echo::of(&req.raw),
        now_secs(),
    ));
    let observed = match dialect {
        Dialect::Anthropic => observe::Output::Anthropic(bytes),
        Dialect::Gemini => observe::Output::Streamed(eval_output(&answer)),
        _ => observe::Output::OpenAi(bytes),
    };
    a.mark_rendered();
    Ok(a.finish_whole(
        usage,
        Whole {
            status: 200,
            content_type: Some("application/json".into()),
            observed,
            body: rendered,
        },
    ))
}

/// The answer's visible text.
fn answer_text(answer: &ChatResponse) -> String {
    let mut text = String::new();
    for b in &answer.content {
        if let Block::Text { text: t, .. } = b {
            text.push_str(t);
        }
    }
    text
}

/// The answer's text and tool calls, for the evaluation sample.
fn eval_output(answer: &ChatResponse) -> switchyard_eval::Output {
    let mut out = switchyard_eval::Output::text(answer_text(answer));
    for b in &answer.content {
        if let Block::ToolUse { name, input, .. } = b {
            let args = serde_json::from_str(input.get()).unwrap_or_default();
            out.tool_calls
                .push(switchyard_eval::ToolCall::new(name.clone(), args));
        }
    }
    out
}

fn estimate(req: &Request<'_>, completion: &str) -> TokenUsage {
    TokenUsage {
        input: tokens::count_canonical_prompt(&req.canonical),
        output: tokens::count(completion),
        ..Default::default()
    }
}

/// Reads a Responses target's stream for the tee: forwards every event unchanged; the usage
/// comes with the final `response.completed` / `response.incomplete` event.
#[derive(Default)]
pub(crate) struct ResponsesReader {
    /// The upstream's canonical usage, when the events were rendered from another dialect:
    /// it keeps cache writes, which the Responses usage shape does not carry.
    canonical: Option<SharedUsage>,
}

impl ResponsesReader {
    fn usage(&self, data: &str) -> Option<TokenUsage> {
        let shared = self.canonical.as_ref().and_then(|u| *u.lock().ok()?);
        shared.or_else(|| final_usage(data))
    }
}

impl EventReader for ResponsesReader {
    fn inspect(&mut self, ev: &SseEvent, p: &mut Progress) -> bool {
        let data = ev.data.as_str();
        if data.contains("\"response.output_text.delta\"")
            || data.contains("\"response.function_call_arguments.delta\"")
            || data.contains("\"response.reasoning_summary_text.delta\"")
        {
            if p.first_output.is_none() {
                p.first_output = Some(Instant::now());
            }
            if let Some(delta) = delta_of(data) {
                p.text.push_str(&delta);
            }
        } else if data.contains("\"response.completed\"")
            || data.contains("\"response.incomplete\"")
        {
            if let Some(u) = self.usage(data) {
                p.usage = Some(u);
            }
        } else if data.contains("\"response.failed\"") || data.contains("\"type\":\"error\"") {
            if let Some(u) = self.usage(data) {
                p.usage = Some(u);
            }
            p.upstream_error = Some(truncated(data));
        }
        true
    }

    fn error_event(&self, message: &str) -> Bytes {
        let msg = serde_json::to_string(&format!(
            "The upstream stream broke after it began: {message}"
        ))
        .unwrap_or_else(|_| "\"stream broke\"".into());
        let mut b = BytesMut::from(
            &b"event: error\ndata: {\"type\":\"error\",\"code\":\"upstream_error\",\"message\":"[..],
        );
        b.extend_from_slice(msg.as_bytes());
        b.extend_from_slice(b",\"param\":null}\n\n");
        b.freeze()
    }
}

#[derive(serde::Deserialize)]
struct Delta {
    #[serde(default)]
    delta: String,
}

fn delta_of(data: &str) -> Option<String> {
    serde_json::from_str::<Delta>(data).ok().map(|d| d.delta)
}

#[derive(serde::Deserialize)]
struct Final {
    response: FinalResponse,
}

#[derive(serde::Deserialize)]
struct FinalResponse {
    #[serde(default)]
    usage: Option<responses::Usage>,
}

fn final_usage(data: &str) -> Option<TokenUsage> {
    let f: Final = serde_json::from_str(data).ok()?;
    f.response.usage.map(|u| u.to_tokens())
}

fn truncated(data: &str) -> String {
    let mut end = data.len().min(300);
    while !data.is_char_boundary(end) {
        end -= 1;
    }
    data[..end].to_string()
}

#[cfg(test)]
#[path = "responses_tests.rs"]
mod tests;
