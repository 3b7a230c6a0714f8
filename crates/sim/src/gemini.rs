//! Gemini: `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent` (SSE with
//! `?alt=sse`, a JSON array without), with function calling, JSON output from a response schema,
//! implicit caching of long prompts, thinking for "pro", "thinking" and Gemini 3 models, and
//! Gemini 3's thought signatures on function calls, checked on the next turn.

use crate::Sim;
use crate::cache;
use crate::common::{self, Ask, Fault, Tool, ToolMode};
use crate::gemini_reply::{self, Reply};
use crate::gemini_signature;
use crate::synth;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Tokens charged for an inline image or file.
const MEDIA_TOKENS: u64 = 258;

/// An error in Google's shape.
pub(crate) fn error(code: u16, status: &str, message: &str) -> Response {
    common::json_status(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

pub(crate) fn check_key(
    sim: &Sim,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
) -> Option<Response> {
    let want = sim.config.api_key.as_ref()?;
    let key = headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .or(q.get("key").map(String::as_str));
    match key {
        Some(k) if k == want => None,
        Some(_) => Some(error(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
        )),
        None => Some(error(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        )),
    }
}

fn fault_response(f: Fault, model: &str, retry_after_s: u64) -> Response {
    match f {
        Fault::RateLimited => {
            let body = json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                "message": "You exceeded your current quota, please check your plan and billing details.",
                "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                    "retryDelay": format!("{retry_after_s}s")}]}});
            common::with_retry_after(
                common::json_status(StatusCode::TOO_MANY_REQUESTS, &body),
                retry_after_s,
            )
        }
        Fault::ServerError if model.contains("overloaded") => error(
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
        ),
        Fault::ServerError => error(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        ),
        Fault::Timeout => error(
            504,
            "DEADLINE_EXCEEDED",
            "Deadline expired before operation could complete.",
        ),
    }
}

/// A rejected request: HTTP code, Google status and message.
type Rejection = (u16, &'static str, String);

/// Splits `model:action` and checks the body: the model, whether to stream, the request.
fn parse(call: &str, body: &Bytes) -> Result<(String, bool, Value), Rejection> {
    let (model, streaming) = match call.split_once(':') {
        Some((m, "generateContent")) => (m, false),
        Some((m, "streamGenerateContent")) => (m, true),
        _ => return Err((404, "NOT_FOUND", format!("models/{call} is not found."))),
    };
    let req: Value = serde_json::from_slice(body).map_err(|e| {
        let message = format!("Invalid JSON payload received. {e}");
        (400, "INVALID_ARGUMENT", message)
    })?;
    let contents = req.get("contents").and_then(Value::as_array);
    if contents.is_none_or(|c| c.is_empty()) {
        let message = "* GenerateContentRequest.contents: contents is not specified\n";
        return Err((400, "INVALID_ARGUMENT", message.to_string()));
    }
    Ok((model.to_string(), streaming, req))
}

pub async fn call(
    State(sim): State<Arc<Sim>>,
    Path(call): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    sim.remember(&body);
    if let Some(r) = check_key(&sim, &headers, &q) {
        return r;
    }
    if let Some(model) = call.strip_suffix(":batchEmbedContents") {
        return embed(&sim, model, &body).await;
    }
    if let Some(model) = call.strip_suffix(":batchGenerateContent") {
        return crate::gemini_batch::create(&sim, model, &body).await;
    }
    generate(&sim, &call, &q, &body).await
}

/// `:generateContent` and `:streamGenerateContent` (`q`: the query, for `alt=sse`); also
/// how the simulated batch mode answers each of its requests.
pub(crate) async fn generate(
    sim: &Arc<Sim>,
    call: &str,
    q: &HashMap<String, String>,
    body: &Bytes,
) -> Response {
    let (model, streaming, req) = match parse(call, body) {
        Ok(parsed) => parsed,
        Err((code, status, message)) => return error(code, status, &message),
    };
    let signs = gemini_signature::signs(&model);
    if signs && let Err(message) = gemini_signature::check(&req) {
        return error(400, "INVALID_ARGUMENT", &message);
    }
    sim.count(&model);
    let b = sim.behaviour(&model);
    if let Some(f) = common::draw_fault(sim, &b).await {
        return fault_response(f, &model, b.retry_after_s);
    }
    let disconnect = sim.draw() < b.disconnect_rate;
    let (prompt, prompt_tokens) = walk(&req);
    let points = cache::prefixes(
        &format!("gemini/{model}"),
        &prompt,
        prompt_tokens,
        cache::GEMINI_MIN_TOKENS,
    );
    let cached_tokens = cache::automatic(sim, &points);
    let ask = ask(&req, &model, prompt, b.max_output_tokens);
    let outcome = common::plan(&ask, sim.config.seed);
    let reply = Reply {
        id: format!("sim{:016x}", outcome.seed ^ sim.draw().to_bits()),
        include_thoughts: req
            .pointer("/generationConfig/thinkingConfig/includeThoughts")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        signs,
        model,
        prompt_tokens,
        cached_tokens,
        outcome,
    };
    if streaming {
        let sse = q.get("alt").map(String::as_str) == Some("sse");
        return gemini_reply::stream(&reply, b, disconnect, sse);
    }
    let tokens = reply.outcome.visible_tokens() + reply.outcome.thought_tokens();
    common::wait_whole(&b, tokens).await;
    common::json_status(StatusCode::OK, &reply.whole())
}

fn part_piece(p: &Value) -> (String, u64) {
    if let Some(t) = p.get("text").and_then(Value::as_str) {
        return (t.to_string(), synth::approx_tokens(t));
    }
    if p.get("inlineData").is_some() || p.get("fileData").is_some() {
        return (String::new(), MEDIA_TOKENS);
    }
    let piece = p
        .get("functionCall")
        .or_else(|| p.get("functionResponse"))
        .unwrap_or(p)
        .to_string();
    let tokens = synth::approx_tokens(&piece);
    (piece, tokens)
}

/// The prompt's text (system instruction and contents) and its tokens.
fn walk(req: &Value) -> (String, u64) {
    let contents = req.get("contents").and_then(Value::as_array);
    let system = req
        .pointer("/systemInstruction/parts")
        .and_then(Value::as_array);
    let parts = system
        .into_iter()
        .flatten()
        .chain(contents.into_iter().flatten().flat_map(|c| {
            c.get("parts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        }));
    let mut text = String::new();
    let mut tokens = 0;
    for p in parts {
        let (piece, n) = part_piece(p);
        text.push_str(&piece);
        text.push('\n');
        tokens += n;
    }
    if let Some(tools) = req.get("tools") {
        tokens += synth::approx_tokens(&tools.to_string());
    }
    (text, tokens.max(1))
}

fn tools(req: &Value) -> Vec<Tool> {
    let decls = req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("functionDeclarations").and_then(Value::as_array))
        .flatten();
    decls
        .filter_map(|d| {
            let schema = d
                .get("parametersJsonSchema")
                .or_else(|| d.get("parameters"))
                .map(common::lower_types)
                .unwrap_or(json!({"type": "object"}));
            Some(Tool {
                name: d.get("name")?.as_str()?.to_string(),
                schema,
            })
        })
        .collect()
}

fn mode(req: &Value) -> ToolMode {
    let config = req.pointer("/toolConfig/functionCallingConfig");
    let allowed = config
        .and_then(|c| c.get("allowedFunctionNames"))
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str);
    match (
        config.and_then(|c| c.get("mode")).and_then(Value::as_str),
        allowed,
    ) {
        (Some("NONE"), _) => ToolMode::None,
        (Some("ANY"), Some(name)) => ToolMode::Named(name.to_string()),
        (Some("ANY"), None) => ToolMode::Any,
        _ => ToolMode::Auto,
    }
}

fn thinking(req: &Value, model: &str) -> Option<u64> {
    let pro = model.contains("pro") || gemini_signature::signs(model);
    if !pro && !model.contains("thinking") {
        return None;
    }
    match req
        .pointer("/generationConfig/thinkingConfig/thinkingBudget")
        .and_then(Value::as_i64)
    {
        Some(0) if !pro => None,
        Some(n) if n > 0 => Some(n as u64),
        _ => Some(8192),
    }
}

fn ask(req: &Value, model: &str, prompt: String, default_limit: u32) -> Ask {
    let config = req.get("generationConfig");
    let contents = req.get("contents").and_then(Value::as_array);
    let get = |k: &str| config.and_then(|c| c.get(k));
    let last = contents.and_then(|c| c.last());
    let awaiting = last
        .and_then(|c| c.get("role"))
        .and_then(Value::as_str)
        .unwrap_or("user")
        == "user"
        && !last
            .and_then(|c| c.get("parts"))
            .and_then(Value::as_array)
            .is_some_and(|ps| ps.iter().any(|p| p.get("functionResponse").is_some()));
    let schema = match get("responseMimeType").and_then(Value::as_str) {
        Some("application/json") => Some(
            get("responseJsonSchema")
                .or_else(|| get("responseSchema"))
                .map(common::lower_types)
                .unwrap_or(json!({"type": "object", "properties": {"answer": {"type": "string"}}})),
        ),
        _ => None,
    };
    Ask {
        model: model.to_string(),
        prompt,
        tools: tools(req),
        mode: mode(req),
        awaiting,
        parallel: true,
        schema,
        limit: get("maxOutputTokens")
            .and_then(Value::as_u64)
            .unwrap_or(u64::from(default_limit)),
        stop: common::strings(get("stopSequences")),
        thinking: thinking(req, model),
    }
}

/// `:batchEmbedContents`: one deterministic unit vector per request (768 dimensions, as
/// gemini-embedding models return by default, or each request's `outputDimensionality`, up
/// to 3072), no usage — Google reports none here.
async fn embed(sim: &Sim, model: &str, body: &Bytes) -> Response {
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                400,
                "INVALID_ARGUMENT",
                &format!("Invalid JSON payload received. {e}"),
            );
        }
    };
    let Some(requests) = req.get("requests").and_then(Value::as_array) else {
        return error(
            400,
            "INVALID_ARGUMENT",
            "* BatchEmbedContentsRequest.requests: requests is not specified\n",
        );
    };
    sim.count(model);
    let b = sim.behaviour(model);
    if let Some(f) = common::draw_fault(sim, &b).await {
        return fault_response(f, model, b.retry_after_s);
    }
    let sizes: Vec<Option<u64>> = requests
        .iter()
        .map(|r| r.get("outputDimensionality").and_then(Value::as_u64))
        .collect();
    let out_of_range = |d: &Option<u64>| d.is_some_and(|d| d == 0 || d > 3072);
    if let Some(i) = sizes.iter().position(out_of_range) {
        return error(
            400,
            "INVALID_ARGUMENT",
            &format!(
                "* BatchEmbedContentsRequest.requests[{i}].output_dimensionality: out of range; it must be between 1 and 3072.\n"
            ),
        );
    }
    let embeddings: Vec<Value> = requests
        .iter()
        .zip(sizes)
        .map(|(r, size)| {
            let text: String = r
                .pointer("/content/parts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            let size = size.map_or(768, |d| d as usize);
            json!({"values": crate::embeddings::vector(model, &text, size)})
        })
        .collect();
    crate::chat::json_response(&json!({"embeddings": embeddings}))
}
