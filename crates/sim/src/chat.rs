//! `POST /v1/chat/completions` (and Azure's deployment form), streamed or whole.

use crate::Sim;
use crate::common::Fault;
use crate::config::Behaviour;
use crate::synth;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// What the simulated model will say.
pub(crate) enum Answer {
    Text(Vec<String>),
    Tool {
        id: String,
        name: String,
        arguments: String,
    },
}

pub(crate) struct Plan {
    pub(crate) answer: Answer,
    pub(crate) prompt_tokens: u64,
    pub(crate) cached_tokens: u64,
    pub(crate) reasoning_tokens: u64,
}

impl Plan {
    pub(crate) fn completion_tokens(&self) -> u64 {
        let visible = match &self.answer {
            Answer::Text(t) => t.len() as u64,
            Answer::Tool {
                arguments, name, ..
            } => synth::approx_tokens(arguments) + synth::approx_tokens(name),
        };
        visible + self.reasoning_tokens
    }

    fn finish_reason(&self) -> &'static str {
        match self.answer {
            Answer::Text(_) => "stop",
            Answer::Tool { .. } => "tool_calls",
        }
    }

    fn usage(&self) -> Value {
        let completion = self.completion_tokens();
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning_tokens, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        })
    }
}

pub(crate) fn error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(crate) fn json_response(v: &Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

/// 401 that echoes the presented key, as careless upstreams do, so the gateway's scrubbing is
/// exercised.
pub(crate) fn unauthorized(headers: &HeaderMap) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("api-key").and_then(|v| v.to_str().ok()))
        .unwrap_or("");
    error(
        StatusCode::UNAUTHORIZED,
        "invalid_request_error",
        Some("invalid_api_key"),
        &format!("Incorrect API key provided: {presented}."),
    )
}

pub(crate) fn authorized(sim: &Sim, headers: &HeaderMap) -> bool {
    let Some(want) = &sim.config.api_key else {
        return true;
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let api_key = headers.get("api-key").and_then(|v| v.to_str().ok());
    bearer == Some(want.as_str()) || api_key == Some(want.as_str())
}

pub async fn openai(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(sim, headers, body, None).await
}

pub async fn azure(
    State(sim): State<Arc<Sim>>,
    Path(deployment): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !q.contains_key("api-version") {
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("404"),
            "Resource not found: the api-version query parameter is required.",
        );
    }
    handle(sim, headers, body, Some(deployment)).await
}

pub async fn models(State(sim): State<Arc<Sim>>) -> Response {
    let data: Vec<Value> = sim
        .config
        .models
        .keys()
        .map(|m| json!({"id": m, "object": "model", "created": 0, "owned_by": "sim"}))
        .collect();
    json_response(&json!({"object": "list", "data": data}))
}

/// Injects the configured faults; `Some` is the response to send instead of an answer.
pub(crate) async fn fault(sim: &Sim, b: &Behaviour) -> Option<Response> {
    match crate::common::draw_fault(sim, b).await? {
        Fault::RateLimited => Some(crate::common::with_retry_after(
            error(
                StatusCode::TOO_MANY_REQUESTS,
                "requests",
                Some("rate_limit_exceeded"),
                "Rate limit reached for requests. Please try again later.",
            ),
            b.retry_after_s,
        )),
        Fault::ServerError => Some(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            None,
            "The server had an error while processing your request.",
        )),
        Fault::Timeout => Some(error(
            StatusCode::GATEWAY_TIMEOUT,
            "server_error",
            None,
            "timeout",
        )),
    }
}

async fn handle(
    sim: Arc<Sim>,
    headers: HeaderMap,
    body: Bytes,
    deployment: Option<String>,
) -> Response {
    sim.remember(&body);
    if !authorized(&sim, &headers) {
        return unauthorized(&headers);
    }
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                None,
                &format!("We could not parse the JSON body of your request: {e}"),
            );
        }
    };
    let Some(model) =
        deployment.or_else(|| req.get("model").and_then(Value::as_str).map(str::to_string))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            "you must provide a model parameter",
        );
    };
    let Some(messages) = req.get("messages").and_then(Value::as_array) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            "'messages' is a required property",
        );
    };
    sim.count(&model);
    let b = sim.behaviour(&model);
    if let Some(r) = fault(&sim, &b).await {
        return r;
    }
    let disconnect = sim.draw() < b.disconnect_rate;
    let mut plan = plan(&req, messages, &model, &b, sim.config.seed);
    plan.cached_tokens = cached(&sim, &req, messages, &model, plan.prompt_tokens);
    let stream = req.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let include_usage = !b.omit_usage
        && req
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let id = format!(
        "chatcmpl-sim{:016x}",
        synth::hash(&[&body.len().to_string(), &model]) ^ sim.draw().to_bits()
    );
    if stream {
        return stream_response(StreamArgs {
            plan,
            model,
            id,
            include_usage,
            disconnect,
            behaviour: b,
        });
    }
    let n = plan.completion_tokens() as u32;
    sleep(b.ttft() + b.per_token() * n).await;
    let message = match &plan.answer {
        Answer::Text(t) => json!({"role": "assistant", "content": t.concat(), "refusal": null}),
        Answer::Tool {
            id,
            name,
            arguments,
        } => json!({"role": "assistant", "content": null,
            "tool_calls": [{"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}]}),
    };
    let mut out = json!({
        "id": id, "object": "chat.completion", "created": now(), "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": plan.finish_reason()}],
        "system_fingerprint": "fp_sim"
    });
    if !b.omit_usage {
        out["usage"] = plan.usage();
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        out.to_string(),
    )
        .into_response()
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub(crate) async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// The prompt tokens OpenAI's automatic caching serves for this request: the longest prefix
/// (tools, then each message's role and text) seen within the TTL under the same model and
/// `prompt_cache_key`, from 1024 tokens in 128-token steps.
pub(crate) fn cached(
    sim: &Sim,
    req: &Value,
    messages: &[Value],
    model: &str,
    prompt_tokens: u64,
) -> u64 {
    let key = req
        .get("prompt_cache_key")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut text = req.get("tools").map(Value::to_string).unwrap_or_default();
    for m in messages {
        text.push_str(m.get("role").and_then(Value::as_str).unwrap_or(""));
        text.push_str(&text_of(m.get("content").unwrap_or(&Value::Null)));
    }
    let seed = format!("openai/{model}/{key}");
    let points =
        crate::cache::prefixes(&seed, &text, prompt_tokens, crate::cache::OPENAI_MIN_TOKENS);
    crate::cache::automatic(sim, &points).min(prompt_tokens)
}

/// Decides the answer from the request alone (and the seed), so it is reproducible.
pub(crate) fn plan(req: &Value, messages: &[Value], model: &str, b: &Behaviour, seed: u64) -> Plan {
    let texts: Vec<String> = messages
        .iter()
        .map(|m| text_of(m.get("content").unwrap_or(&Value::Null)))
        .collect();
    let joined = texts.join("\n");
    let tools = req
        .get("tools")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty());
    let mut prompt_tokens: u64 = texts
        .iter()
        .map(|t| synth::approx_tokens(t) + 3)
        .sum::<u64>()
        + 3;
    if let Some(t) = tools {
        prompt_tokens += synth::approx_tokens(&Value::Array(t.clone()).to_string());
    }
    let h = synth::hash(&[model, &joined]) ^ seed;
    let last_role = messages
        .last()
        .and_then(|m| m.get("role"))
        .and_then(Value::as_str)
        .unwrap_or("user");
    let choice = req.get("tool_choice");
    let wants_tool =
        tools.is_some() && last_role == "user" && choice.and_then(Value::as_str) != Some("none");
    let limit = req
        .get("max_completion_tokens")
        .or_else(|| req.get("max_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(u64::from(b.max_output_tokens))
        .max(1);
    let answer = if let (true, Some(tools)) = (wants_tool, tools) {
        let named = choice
            .and_then(|c| c.pointer("/function/name"))
            .and_then(Value::as_str);
        let tool = tools
            .iter()
            .find(|t| {
                named.is_none() || t.pointer("/function/name").and_then(Value::as_str) == named
            })
            .unwrap_or(&tools[0]);
        let name = tool
            .pointer("/function/name")
            .and_then(Value::as_str)
            .unwrap_or("tool")
            .to_string();
        let schema = tool
            .pointer("/function/parameters")
            .cloned()
            .unwrap_or(json!({"type": "object"}));
        Answer::Tool {
            id: format!("call_{:012x}", h & 0xffff_ffff_ffff),
            name,
            arguments: synth::from_schema(&schema, h, 0).to_string(),
        }
    } else if let Some(score) = b.judge_score {
        let verdict = json!({"score": score, "reason": "simulated judge"});
        Answer::Text(split_json(&verdict.to_string()))
    } else {
        match req.pointer("/response_format/type").and_then(Value::as_str) {
            Some("json_schema") => {
                let schema = req
                    .pointer("/response_format/json_schema/schema")
                    .cloned()
                    .unwrap_or(json!({"type": "object"}));
                Answer::Text(split_json(&json_answer(
                    synth::from_schema(&schema, h, 0),
                    b,
                    h,
                )))
            }
            Some("json_object") => Answer::Text(split_json(&json_answer(
                json!({"answer": synth::tokens(h, 12).concat()}),
                b,
                h,
            ))),
            _ => {
                // Realistic lengths: between a fifth of the limit and the limit, prompt-dependent.
                let lo = (limit / 5).max(1);
                let n = lo + h % (limit - lo + 1);
                Answer::Text(synth::tokens(h, n as usize))
            }
        }
    };
    let reasoning = if is_reasoning(model) { 16 + h % 128 } else { 0 };
    Plan {
        answer,
        prompt_tokens,
        // Set by the handler from the simulated prompt cache.
        cached_tokens: 0,
        reasoning_tokens: reasoning,
    }
}

fn is_reasoning(model: &str) -> bool {
    ["o1", "o3", "o4", "gpt-5", "gpt-6"]
        .iter()
        .any(|p| model.starts_with(p))
        || model.contains("reason")
}

/// JSON text cut into token-sized pieces for streaming.
/// A JSON answer as text; cut short by its last character under `broken_json`.
fn json_answer(v: Value, b: &Behaviour, h: u64) -> String {
    let mut text = v.to_string();
    // The low bits of the request's hash stand in for a draw, so a replay breaks alike.
    let drawn = (h % 10_000) as f64 / 10_000.0 < b.broken_json_rate;
    if b.broken_json || drawn {
        text.pop();
    }
    text
}

pub(crate) fn split_json(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect()).collect()
}

struct StreamArgs {
    plan: Plan,
    model: String,
    id: String,
    include_usage: bool,
    disconnect: bool,
    behaviour: Behaviour,
}

fn stream_response(a: StreamArgs) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(async move {
        let created = now();
        let usage_field = if a.include_usage {
            ",\"usage\":null"
        } else {
            ""
        };
        let chunk = |delta: Value, finish: Option<&str>| -> Bytes {
            let c = json!({"id": a.id, "object": "chat.completion.chunk", "created": created, "model": a.model,
                "system_fingerprint": "fp_sim", "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
            let mut s = c.to_string();
            s.truncate(s.len() - 1);
            Bytes::from(format!("data: {s}{usage_field}}}\n\n"))
        };
        let pieces: Vec<Value> = match &a.plan.answer {
            Answer::Text(t) => {
                let mut v = vec![json!({"role": "assistant", "content": "", "refusal": null})];
                v.extend(t.iter().map(|tok| json!({"content": tok})));
                v
            }
            Answer::Tool {
                id,
                name,
                arguments,
            } => {
                let mut v = vec![
                    json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
                ];
                let chars: Vec<char> = arguments.chars().collect();
                v.extend(chars.chunks(6).map(|c| json!({"tool_calls": [{"index": 0, "function": {"arguments": c.iter().collect::<String>()}}]})));
                v
            }
        };
        sleep(a.behaviour.ttft()).await;
        let cut = if a.disconnect {
            pieces.len() / 2
        } else {
            usize::MAX
        };
        for (i, p) in pieces.into_iter().enumerate() {
            if i == cut {
                let _ = tx
                    .send(Err(std::io::Error::other("simulated disconnect")))
                    .await;
                return;
            }
            if i > 1 {
                sleep(a.behaviour.per_token()).await;
            }
            if tx.send(Ok(chunk(p, None))).await.is_err() {
                return;
            }
        }
        let _ = tx
            .send(Ok(chunk(json!({}), Some(a.plan.finish_reason()))))
            .await;
        if a.include_usage {
            let u = json!({"id": a.id, "object": "chat.completion.chunk", "created": created, "model": a.model,
                "system_fingerprint": "fp_sim", "choices": [], "usage": a.plan.usage()});
            let _ = tx.send(Ok(Bytes::from(format!("data: {u}\n\n")))).await;
        }
        let _ = tx.send(Ok(Bytes::from_static(b"data: [DONE]\n\n"))).await;
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_json_rate_breaks_about_that_share_and_the_same_request_alike() {
        let b = Behaviour {
            broken_json_rate: 0.25,
            ..Behaviour::default()
        };
        let v = json!({"label": "billing"});
        let broken = (0..4000u64)
            .map(|k| synth::hash(&[&k.to_string()]))
            .filter(|&h| serde_json::from_str::<Value>(&json_answer(v.clone(), &b, h)).is_err())
            .count();
        assert!((800..1200).contains(&broken), "{broken} of 4000");
        let h = synth::hash(&["one request"]);
        assert_eq!(json_answer(v.clone(), &b, h), json_answer(v, &b, h));
    }
}
