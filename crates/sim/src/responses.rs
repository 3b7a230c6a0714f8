//! `POST /v1/responses`: OpenAI's Responses API, whole or streamed as its typed events.
//!
//! The request is read as the chat it amounts to (input items and the stored conversation of
//! `previous_response_id` as messages, flat function tools as chat tools, `text.format` as
//! `response_format`), so the answer, the token counts and the automatic prompt cache are those
//! of `/v1/chat/completions` for the same prompt. With `store` (default true) the conversation
//! is kept in memory for the next `previous_response_id`; an unknown one is a 404 as OpenAI's.

use crate::Sim;
use crate::chat::{self, Answer, Plan};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn create(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    sim.remember(&body);
    if !chat::authorized(&sim, &headers) {
        return chat::unauthorized(&headers);
    }
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return bad(
                &format!("We could not parse the JSON body of your request: {e}"),
                None,
            );
        }
    };
    let Some(model) = req.get("model").and_then(Value::as_str).map(str::to_string) else {
        return bad("Missing required parameter: 'model'.", Some("model"));
    };
    let mut messages = match conversation(&sim, &req) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    sim.count(&model);
    let b = sim.behaviour(&model);
    if let Some(r) = chat::fault(&sim, &b).await {
        return r;
    }
    let chat_req = as_chat(&req, &messages);
    let mut plan = chat::plan(&chat_req, &messages, &model, &b, sim.config.seed);
    plan.cached_tokens = chat::cached(&sim, &chat_req, &messages, &model, plan.prompt_tokens);
    let id = format!(
        "resp_sim{:016x}",
        crate::synth::hash(&[&body.len().to_string(), &model]) ^ sim.draw().to_bits()
    );
    let output = output_items(&plan, &id, &model);
    if req.get("store").and_then(Value::as_bool).unwrap_or(true) {
        messages.push(assistant_message(&plan));
        if let Ok(mut m) = sim.responses.lock() {
            m.insert(id.clone(), messages);
        }
    }
    let done = response(&id, &model, "completed", &output, Some(usage(&plan)));
    if req.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        return stream(id, model, output, done, b);
    }
    chat::sleep(b.ttft() + b.per_token() * plan.completion_tokens() as u32).await;
    chat::json_response(&done)
}

/// The stored conversation of `previous_response_id`, `instructions` and `input`, as chat
/// messages; a 404 for an unknown previous response, a 400 without `input`.
fn conversation(sim: &Sim, req: &Value) -> Result<Vec<Value>, Box<Response>> {
    let mut messages = match req.get("previous_response_id").and_then(Value::as_str) {
        None => Vec::new(),
        Some(prev) => match sim.responses.lock().ok().and_then(|m| m.get(prev).cloned()) {
            Some(m) => m,
            None => {
                return Err(Box::new(not_found(&format!(
                    "Previous response with id '{prev}' not found."
                ))));
            }
        },
    };
    if let Some(i) = req.get("instructions").and_then(Value::as_str) {
        messages.insert(0, json!({"role": "system", "content": i}));
    }
    match req.get("input") {
        Some(Value::String(s)) => messages.push(json!({"role": "user", "content": s})),
        Some(Value::Array(items)) => messages.extend(items.iter().filter_map(as_message)),
        _ => {
            return Err(Box::new(bad(
                "Missing required parameter: 'input'.",
                Some("input"),
            )));
        }
    }
    Ok(messages)
}

fn bad(message: &str, param: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": null}});
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn not_found(message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error",
        "param": "previous_response_id", "code": "previous_response_not_found"}});
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// An input item as a chat message (reasoning items carry nothing the plan reads).
fn as_message(item: &Value) -> Option<Value> {
    let kind = item
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message");
    match kind {
        "message" => {
            Some(json!({"role": item.get("role")?, "content": text(item.get("content")?)}))
        }
        "function_call" => Some(
            json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": item.get("call_id")?, "type": "function",
            "function": {"name": item.get("name")?, "arguments": item.get("arguments")?}}]}),
        ),
        "function_call_output" => {
            Some(json!({"role": "tool", "tool_call_id": item.get("call_id")?,
            "content": text(item.get("output")?)}))
        }
        _ => None,
    }
}

fn text(content: &Value) -> Value {
    match content {
        Value::Array(parts) => Value::String(
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        other => other.clone(),
    }
}

/// The request's tools, tool choice, format and limit in chat shape, for the shared planner.
fn as_chat(req: &Value, messages: &[Value]) -> Value {
    let tools: Vec<Value> = req
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
        .map(|t| json!({"type": "function", "function": {"name": t.get("name"), "parameters": t.get("parameters")}}))
        .collect();
    let mut c = json!({"messages": messages, "tools": tools});
    for key in ["prompt_cache_key", "max_output_tokens"] {
        if let Some(v) = req.get(key) {
            c[if key == "max_output_tokens" {
                "max_completion_tokens"
            } else {
                key
            }] = v.clone();
        }
    }
    match req.get("tool_choice") {
        Some(Value::Object(o)) => {
            c["tool_choice"] = json!({"type": "function", "function": {"name": o.get("name")}})
        }
        Some(v) => c["tool_choice"] = v.clone(),
        None => {}
    }
    if let Some(f) = req.pointer("/text/format") {
        c["response_format"] = match f.get("type").and_then(Value::as_str) {
            Some("json_schema") => {
                json!({"type": "json_schema", "json_schema": {"name": f.get("name"), "schema": f.get("schema")}})
            }
            _ => json!({"type": f.get("type")}),
        };
    }
    c
}

fn assistant_message(plan: &Plan) -> Value {
    match &plan.answer {
        Answer::Text(t) => json!({"role": "assistant", "content": t.concat()}),
        Answer::Tool {
            id,
            name,
            arguments,
        } => json!({"role": "assistant", "content": null,
            "tool_calls": [{"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}]}),
    }
}

fn output_items(plan: &Plan, id: &str, model: &str) -> Vec<Value> {
    let base = id.trim_start_matches("resp_");
    let mut out = Vec::new();
    if plan.reasoning_tokens > 0 {
        out.push(
            json!({"type": "reasoning", "id": format!("rs_{base}"), "summary": [
            {"type": "summary_text", "text": format!("{model} considered the request.")}]}),
        );
    }
    out.push(match &plan.answer {
        Answer::Text(t) => json!({"type": "message", "id": format!("msg_{base}"), "status": "completed",
            "role": "assistant", "content": [{"type": "output_text", "text": t.concat(), "annotations": []}]}),
        Answer::Tool { id, name, arguments } => json!({"type": "function_call", "id": format!("fc_{base}"),
            "call_id": id, "name": name, "arguments": arguments, "status": "completed"}),
    });
    out
}

fn usage(plan: &Plan) -> Value {
    let output = plan.completion_tokens();
    json!({"input_tokens": plan.prompt_tokens, "input_tokens_details": {"cached_tokens": plan.cached_tokens},
        "output_tokens": output, "output_tokens_details": {"reasoning_tokens": plan.reasoning_tokens},
        "total_tokens": plan.prompt_tokens + output})
}

fn response(id: &str, model: &str, status: &str, output: &[Value], usage: Option<Value>) -> Value {
    json!({"id": id, "object": "response", "created_at": chat::now(), "status": status, "error": null,
        "incomplete_details": null, "model": model, "output": output, "usage": usage,
        "parallel_tool_calls": true, "tool_choice": "auto", "tools": [], "metadata": {}})
}

/// The typed event sequence of `output`, then `response.completed` with `done`.
fn stream(
    id: String,
    model: String,
    output: Vec<Value>,
    done: Value,
    b: crate::Behaviour,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(async move {
        let mut seq = 0u64;
        let mut frame = |mut v: Value| {
            v["sequence_number"] = json!(seq);
            seq += 1;
            let name = v["type"].as_str().unwrap_or("").to_string();
            Bytes::from(format!("event: {name}\ndata: {v}\n\n"))
        };
        let start = response(&id, &model, "in_progress", &[], None);
        let mut frames = vec![
            frame(json!({"type": "response.created", "response": start})),
            frame(json!({"type": "response.in_progress", "response": start})),
        ];
        for (i, item) in output.iter().enumerate() {
            frames.extend(item_events(item, i).into_iter().map(&mut frame));
        }
        frames.push(frame(
            json!({"type": "response.completed", "response": done}),
        ));
        chat::sleep(b.ttft()).await;
        for f in frames {
            chat::sleep(b.per_token()).await;
            if tx.send(Ok(f)).await.is_err() {
                return;
            }
        }
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// One output item's events: added, its deltas in pieces, done.
fn item_events(item: &Value, index: usize) -> Vec<Value> {
    let id = item["id"].clone();
    let mut start = item.clone();
    let mut ev = Vec::new();
    match item["type"].as_str() {
        Some("message") => ev.extend(message_events(item, &mut start, index)),
        Some("function_call") => {
            start["arguments"] = json!("");
            start["status"] = json!("in_progress");
            let args = item["arguments"].as_str().unwrap_or("");
            ev.push(
                json!({"type": "response.output_item.added", "output_index": index, "item": start}),
            );
            for piece in pieces(args) {
                ev.push(json!({"type": "response.function_call_arguments.delta", "item_id": id, "output_index": index, "delta": piece}));
            }
            ev.push(json!({"type": "response.function_call_arguments.done", "item_id": id, "output_index": index, "arguments": args}));
        }
        _ => ev.push(
            json!({"type": "response.output_item.added", "output_index": index, "item": item}),
        ),
    }
    ev.push(json!({"type": "response.output_item.done", "output_index": index, "item": item}));
    ev
}

/// A message item's events from `added` to `content_part.done`.
fn message_events(item: &Value, start: &mut Value, index: usize) -> Vec<Value> {
    start["content"] = json!([]);
    start["status"] = json!("in_progress");
    let text = item
        .pointer("/content/0/text")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut ev =
        vec![json!({"type": "response.output_item.added", "output_index": index, "item": start})];
    let head = json!({"item_id": item["id"], "output_index": index, "content_index": 0});
    let with = |kind: &str, extra: Value| {
        let mut v = head.clone();
        v["type"] = json!(kind);
        if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        v
    };
    ev.push(with(
        "response.content_part.added",
        json!({"part": {"type": "output_text", "text": "", "annotations": []}}),
    ));
    for piece in pieces(text) {
        ev.push(with(
            "response.output_text.delta",
            json!({"delta": piece, "logprobs": []}),
        ));
    }
    ev.push(with(
        "response.output_text.done",
        json!({"text": text, "logprobs": []}),
    ));
    ev.push(with(
        "response.content_part.done",
        json!({"part": item["content"][0]}),
    ));
    ev
}

fn pieces(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(8).map(|c| c.iter().collect()).collect()
}
