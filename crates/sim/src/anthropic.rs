//! `POST /v1/messages`: the Anthropic Messages API, whole or streamed (see `anthropic_reply`),
//! with prompt caching at `cache_control` breakpoints, extended thinking (and redacted thinking
//! when the prompt holds Anthropic's trigger string) and tool use.

use crate::Sim;
use crate::anthropic_reply::{self, Reply};
use crate::cache::{self, Breakpoint};
use crate::common::{self, Ask, Fault, Tool, ToolMode};
use crate::synth;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;

/// Tokens charged for an image or document block whatever its size (about a megapixel).
const IMAGE_TOKENS: u64 = 1568;

/// An error in Anthropic's shape.
pub(crate) fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    common::json_status(
        status,
        &json!({"type": "error", "error": {"type": kind, "message": message},
            "request_id": format!("req_sim{:016x}", synth::hash(&[kind, message]))}),
    )
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request_error", message)
}

/// Checks the key (`x-api-key` or a bearer token) and the required `anthropic-version`.
pub(crate) fn check_headers(sim: &Sim, headers: &HeaderMap) -> Option<Response> {
    if let Some(want) = &sim.config.api_key {
        let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if key != Some(want.as_str()) && bearer != Some(want.as_str()) {
            return Some(error(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "invalid x-api-key",
            ));
        }
    }
    if !headers.contains_key("anthropic-version") {
        return Some(bad_request("anthropic-version: header is required"));
    }
    None
}

/// Keeps the Anthropic headers for `GET /sim/last_headers` (repeated ones joined by `, `).
fn remember_headers(sim: &Sim, headers: &HeaderMap) {
    let mut kept = serde_json::Map::new();
    for name in ["anthropic-version", "anthropic-beta"] {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if !values.is_empty() {
            kept.insert(name.to_string(), json!(values.join(", ")));
        }
    }
    if let Ok(mut last) = sim.last_headers.lock() {
        *last = kept;
    }
}

fn fault_response(f: Fault, model: &str, retry_after_s: u64) -> Response {
    match f {
        Fault::RateLimited => common::with_retry_after(
            error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "This request would exceed the rate limit for your organization. Please try again later.",
            ),
            retry_after_s,
        ),
        Fault::ServerError if model.contains("overloaded") => error(
            StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "overloaded_error",
            "Overloaded",
        ),
        Fault::ServerError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "Internal server error",
        ),
        Fault::Timeout => error(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout_error",
            "Request timed out",
        ),
    }
}

pub async fn messages(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    sim.remember(&body);
    remember_headers(&sim, &headers);
    if let Some(r) = check_headers(&sim, &headers) {
        return r;
    }
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(&format!("There was an error parsing the body: {e}")),
    };
    let (model, max_tokens, messages) = match validate(&req) {
        Ok(v) => v,
        Err(message) => return bad_request(&message),
    };
    let prompt = walk(&req, &model, messages);
    if prompt.points.len() > 4 {
        let found = prompt.points.len();
        return bad_request(&format!(
            "A maximum of 4 blocks with cache_control may be provided. Found {found}."
        ));
    }
    sim.count(&model);
    let b = sim.behaviour(&model);
    if let Some(f) = common::draw_fault(&sim, &b).await {
        return fault_response(f, &model, b.retry_after_s);
    }
    let disconnect = sim.draw() < b.disconnect_rate;
    let cache = cache::settle(&sim, &model, &prompt.points);
    let redacted = prompt.text.contains(anthropic_reply::REDACT_TRIGGER);
    let ask = ask(&req, &model, prompt.text, max_tokens);
    let outcome = common::plan(&ask, sim.config.seed);
    let reply = Reply {
        id: format!("msg_sim{:016x}", outcome.seed ^ sim.draw().to_bits()),
        model,
        input_tokens: prompt.tokens.saturating_sub(cache.read + cache.written()),
        cache,
        outcome,
        redacted,
    };
    if req.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        return anthropic_reply::stream(&reply, b, disconnect);
    }
    common::wait_whole(&b, reply.output_tokens()).await;
    common::json_status(StatusCode::OK, &reply.message())
}

/// Required fields and the constraints on extended thinking: the model, `max_tokens` and the
/// messages, or what is wrong.
fn validate(req: &Value) -> Result<(String, u64, &[Value]), String> {
    let model = req.get("model").and_then(Value::as_str);
    let model = model.ok_or("model: Field required")?.to_string();
    let max_tokens = req.get("max_tokens").and_then(Value::as_u64);
    let max_tokens = max_tokens.ok_or("max_tokens: Field required")?;
    let messages = req.get("messages").and_then(Value::as_array);
    let messages = messages.ok_or("messages: Field required")?;
    if messages.is_empty() {
        return Err("messages: at least one message is required".into());
    }
    let thinking = req
        .get("thinking")
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("enabled"));
    if let Some(t) = thinking {
        let budget = t.get("budget_tokens").and_then(Value::as_u64).unwrap_or(0);
        if budget < 1024 {
            return Err(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
                    .into(),
            );
        }
        if budget >= max_tokens {
            return Err("`max_tokens` must be greater than `thinking.budget_tokens`".into());
        }
        let forced = req.pointer("/tool_choice/type").and_then(Value::as_str);
        if matches!(forced, Some("any" | "tool")) {
            return Err("Thinking may not be enabled when tool_choice forces tool use.".into());
        }
    }
    Ok((model, max_tokens, messages))
}

/// The prompt as the cache sees it: text for planning, tokens, and breakpoints in the order
/// Anthropic builds the prefix (tools, system, messages).
struct Prompt {
    text: String,
    tokens: u64,
    hash: u64,
    points: Vec<Breakpoint>,
}

impl Prompt {
    fn add(&mut self, piece: &str, tokens: u64, block: &Value) {
        self.hash = synth::hash(&[&self.hash.to_string(), piece]);
        self.tokens += tokens;
        if let Some(cc) = block.get("cache_control").filter(|c| c.is_object()) {
            self.points.push(Breakpoint {
                hash: self.hash,
                tokens: self.tokens,
                long: cc.get("ttl").and_then(Value::as_str) == Some("1h"),
            });
        }
    }

    fn say(&mut self, text: &str, block: &Value) {
        self.text.push_str(text);
        self.text.push('\n');
        self.add(text, synth::approx_tokens(text), block);
    }
}

fn walk(req: &Value, model: &str, messages: &[Value]) -> Prompt {
    let mut p = Prompt {
        text: String::new(),
        tokens: 3,
        hash: synth::hash(&[model]),
        points: Vec::new(),
    };
    for tool in req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut bare = tool.clone();
        if let Some(m) = bare.as_object_mut() {
            m.remove("cache_control");
        }
        let piece = bare.to_string();
        p.add(&piece, synth::approx_tokens(&piece), tool);
    }
    match req.get("system") {
        Some(Value::String(s)) => p.say(s, &Value::Null),
        Some(Value::Array(blocks)) => blocks.iter().for_each(|b| block(&mut p, b)),
        _ => {}
    }
    for m in messages {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        p.add(role, 3, &Value::Null);
        match m.get("content") {
            Some(Value::String(s)) => p.say(s, &Value::Null),
            Some(Value::Array(blocks)) => blocks.iter().for_each(|b| block(&mut p, b)),
            _ => {}
        }
    }
    p
}

fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn block(p: &mut Prompt, b: &Value) {
    let str_of = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    match b.get("type").and_then(Value::as_str).unwrap_or("text") {
        "text" => p.say(&str_of("text"), b),
        "image" | "document" => {
            let source = b.get("source").map(Value::to_string).unwrap_or_default();
            p.add(&source, IMAGE_TOKENS, b);
        }
        "tool_use" => {
            let piece = format!(
                "{}{}",
                str_of("name"),
                b.get("input").unwrap_or(&Value::Null)
            );
            p.add(&piece, synth::approx_tokens(&piece), b);
        }
        "tool_result" => p.say(&text_of(b.get("content")), b),
        "thinking" => p.add(
            &str_of("thinking"),
            synth::approx_tokens(&str_of("thinking")),
            b,
        ),
        _ => {
            let piece = b.to_string();
            p.add(&piece, synth::approx_tokens(&piece), b);
        }
    }
}

fn tools(req: &Value) -> Vec<Tool> {
    let all = req.get("tools").and_then(Value::as_array);
    all.into_iter()
        .flatten()
        .filter_map(|t| {
            Some(Tool {
                name: t.get("name")?.as_str()?.to_string(),
                schema: t
                    .get("input_schema")
                    .cloned()
                    .unwrap_or(json!({"type": "object"})),
            })
        })
        .collect()
}

fn mode(choice: Option<&Value>) -> ToolMode {
    let field = |k: &str| choice.and_then(|c| c.get(k)).and_then(Value::as_str);
    match field("type") {
        Some("any") => ToolMode::Any,
        Some("none") => ToolMode::None,
        Some("tool") => ToolMode::Named(field("name").unwrap_or("").to_string()),
        _ => ToolMode::Auto,
    }
}

/// The last turn is the user's and carries no tool result.
fn awaiting(req: &Value) -> bool {
    let last = req
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.last());
    last.and_then(|m| m.get("role")).and_then(Value::as_str) == Some("user")
        && !last
            .and_then(|m| m.get("content"))
            .and_then(Value::as_array)
            .is_some_and(|bs| {
                bs.iter()
                    .any(|b| b.get("type") == Some(&json!("tool_result")))
            })
}

fn ask(req: &Value, model: &str, prompt: String, max_tokens: u64) -> Ask {
    let choice = req.get("tool_choice");
    let thinking = req
        .get("thinking")
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("enabled"))
        .map(|t| {
            t.get("budget_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(1024)
        });
    Ask {
        model: model.to_string(),
        prompt,
        tools: tools(req),
        mode: mode(choice),
        awaiting: awaiting(req),
        parallel: choice
            .and_then(|c| c.get("disable_parallel_tool_use"))
            .and_then(Value::as_bool)
            != Some(true),
        schema: None,
        limit: max_tokens,
        stop: common::strings(req.get("stop_sequences")),
        thinking,
    }
}
