use super::*;
use crate::anthropic::{MessagesRequest, ingress::parse_request, place_raw};
use serde_json::{Value, json};

/// Text of about `tokens` estimated tokens.
fn text(tokens: usize) -> String {
    "word ".repeat(tokens * 4 / 5)
}

fn tool(name: &str, tokens: usize) -> Value {
    json!({"name": name, "description": text(tokens), "input_schema": {"type": "object"}})
}

fn canonical(body: &Value) -> ChatRequest {
    match parse_request(body.to_string().as_bytes()) {
        Ok(c) => c,
        Err(e) => panic!("{}", e.message),
    }
}

/// The body Anthropic would receive after placement on the canonical path.
fn placed(body: &Value, ttl: CacheTtl) -> (usize, Value) {
    let mut c = canonical(body);
    let n = place(&mut c, ttl, 1024);
    let out = MessagesRequest::from(&c).to_json();
    (n, serde_json::from_slice(&out).unwrap_or_default())
}

fn raw(body: &Value, ttl: CacheTtl) -> Option<Value> {
    place_raw(body.to_string().as_bytes(), ttl, 1024)
        .map(|b| serde_json::from_slice(&b).unwrap_or_default())
}

fn marks(v: &Value) -> usize {
    match v {
        Value::Object(m) => {
            usize::from(m.contains_key("cache_control")) + m.values().map(marks).sum::<usize>()
        }
        Value::Array(a) => a.iter().map(marks).sum(),
        _ => 0,
    }
}

fn conversation(system: &str) -> Value {
    json!({"model": "m", "max_tokens": 100, "system": system, "messages": [
        {"role": "user", "content": text(600)},
        {"role": "assistant", "content": "sure"},
        {"role": "user", "content": [{"type": "text", "text": "and then?"}]},
    ]})
}

#[test]
fn tools_and_system_get_a_breakpoint_when_their_prefix_reaches_the_minimum() {
    let body = json!({"model": "m", "max_tokens": 10, "system": text(1500),
        "tools": [tool("a", 100), tool("b", 1200)], "messages": [{"role": "user", "content": "hi"}]});
    let (n, out) = placed(&body, CacheTtl::FiveMinutes);
    assert_eq!(n, 2);
    assert_eq!(
        out["tools"][1]["cache_control"],
        json!({"type": "ephemeral"})
    );
    assert!(out["tools"][0].get("cache_control").is_none());
    assert_eq!(out["system"][0]["cache_control"]["type"], "ephemeral");
    assert_eq!(
        marks(&out),
        2,
        "no conversation breakpoint on a single turn"
    );
}

#[test]
fn no_breakpoint_where_the_prefix_is_below_the_minimum() {
    let body = json!({"model": "m", "max_tokens": 10, "system": text(300),
        "tools": [tool("a", 300)], "messages": [{"role": "user", "content": "hi"}]});
    let (n, out) = placed(&body, CacheTtl::FiveMinutes);
    assert_eq!(n, 0);
    assert_eq!(marks(&out), 0);
    assert!(raw(&body, CacheTtl::FiveMinutes).is_none());
}

#[test]
fn the_tools_count_toward_the_system_breakpoints_minimum() {
    let body = json!({"model": "m", "max_tokens": 10, "system": text(600),
        "tools": [tool("a", 600)], "messages": [{"role": "user", "content": "hi"}]});
    let (_, out) = placed(&body, CacheTtl::FiveMinutes);
    assert!(
        out["tools"][0].get("cache_control").is_none(),
        "600 tokens alone"
    );
    assert_eq!(out["system"][0]["cache_control"]["type"], "ephemeral");
}

#[test]
fn a_conversation_marks_its_latest_turn_and_the_previous_user_turn() {
    let (n, out) = placed(&conversation(&text(1100)), CacheTtl::FiveMinutes);
    assert_eq!(n, 3);
    assert_eq!(out["system"][0]["cache_control"]["type"], "ephemeral");
    assert_eq!(
        out["messages"][0]["content"][0]["cache_control"]["type"],
        "ephemeral"
    );
    assert!(
        out["messages"][1]["content"][0]
            .get("cache_control")
            .is_none()
    );
    assert_eq!(
        out["messages"][2]["content"][0]["cache_control"]["type"],
        "ephemeral"
    );
}

#[test]
fn at_most_four_breakpoints_are_placed() {
    let mut body = conversation(&text(1100));
    body["tools"] = json!([tool("a", 1100)]);
    let (n, out) = placed(&body, CacheTtl::FiveMinutes);
    assert_eq!(n, MAX_BREAKPOINTS);
    assert_eq!(marks(&out), MAX_BREAKPOINTS);
    let out = raw(&body, CacheTtl::FiveMinutes).unwrap_or_default();
    assert_eq!(marks(&out), MAX_BREAKPOINTS);
}

#[test]
fn a_request_with_the_clients_own_breakpoint_is_left_untouched() {
    let body = json!({"model": "m", "max_tokens": 10,
        "system": [{"type": "text", "text": text(2000)}],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "q", "cache_control": {"type": "ephemeral"}}]}]});
    let (n, out) = placed(&body, CacheTtl::OneHour);
    assert_eq!(n, 0);
    assert_eq!(marks(&out), 1);
    assert!(raw(&body, CacheTtl::OneHour).is_none());
}

#[test]
fn the_one_hour_ttl_is_written_on_every_breakpoint() {
    let (_, out) = placed(&conversation(&text(1100)), CacheTtl::OneHour);
    assert_eq!(
        out["system"][0]["cache_control"],
        json!({"type": "ephemeral", "ttl": "1h"})
    );
    assert_eq!(
        out["messages"][2]["content"][0]["cache_control"]["ttl"],
        "1h"
    );
    let out = raw(&conversation(&text(1100)), CacheTtl::OneHour).unwrap_or_default();
    assert_eq!(
        out["system"][0]["cache_control"],
        json!({"type": "ephemeral", "ttl": "1h"})
    );
    assert_eq!(
        out["messages"][0]["content"][0]["cache_control"]["ttl"],
        "1h"
    );
}

#[test]
fn the_raw_body_gets_the_same_breakpoints_and_keeps_everything_else() {
    let mut body = conversation(&text(1100));
    body["top_k"] = json!(5);
    body["x_unknown"] = json!({"keep": [1.50, "me"]});
    let out = raw(&body, CacheTtl::FiveMinutes).unwrap_or_default();
    assert_eq!(out["system"][0]["type"], "text");
    assert_eq!(out["system"][0]["text"], body["system"]);
    assert_eq!(
        out["messages"][0]["content"][0]["text"],
        body["messages"][0]["content"]
    );
    assert_eq!(
        out["messages"][2]["content"][0]["cache_control"]["type"],
        "ephemeral"
    );
    assert!(out["messages"][1].get("cache_control").is_none());
    assert_eq!(marks(&out), 3);
    assert_eq!(out["x_unknown"], body["x_unknown"]);
    assert_eq!(out["top_k"], 5);
    let again = out.to_string();
    assert!(
        parse_request(again.as_bytes()).is_ok(),
        "still a valid request"
    );
}

#[test]
fn the_raw_body_is_spliced_not_reserialised() {
    let body = format!(
        r#"{{"model":"m","max_tokens":10,"x":1.50,"tools":[{{"name":"t","description":"{}","input_schema":{{}}}}],"messages":[{{"role":"user","content":"hi"}}]}}"#,
        text(1100)
    );
    let out = place_raw(body.as_bytes(), CacheTtl::FiveMinutes, 1024).unwrap_or_default();
    let out = String::from_utf8(out).unwrap_or_default();
    assert!(
        out.starts_with(r#"{"model":"m","max_tokens":10,"x":1.50,"tools":"#),
        "{out}"
    );
    assert!(out.contains(r#""input_schema":{},"cache_control":{"type":"ephemeral"}}]"#));
}

#[test]
fn thinking_blocks_never_carry_a_breakpoint() {
    let body = json!({"model": "m", "max_tokens": 2000, "system": text(1100), "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "a"},
            {"type": "thinking", "thinking": "hmm", "signature": "sig"}]},
    ]});
    let out = raw(&body, CacheTtl::FiveMinutes).unwrap_or_default();
    assert_eq!(
        out["messages"][1]["content"][0]["cache_control"]["type"],
        "ephemeral"
    );
    assert!(
        out["messages"][1]["content"][1]
            .get("cache_control")
            .is_none()
    );
    let (_, out) = placed(&body, CacheTtl::FiveMinutes);
    let blocks = out["messages"][1]["content"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let thinking = blocks.iter().find(|b| b["type"] == "thinking");
    assert!(thinking.is_some_and(|b| b.get("cache_control").is_none()));
    assert_eq!(marks(&out), 3);
}

#[test]
fn the_plan_uses_the_models_minimum() {
    let o = Outline {
        tools: 0,
        system: 3000,
        turns: vec![TurnSize {
            assistant: false,
            tokens: 10,
            markable: true,
        }],
    };
    assert_eq!(plan(&o, 2048), vec![Spot::System]);
    assert!(plan(&o, 4096).is_empty());
}
