//! Conformance: the same OpenAI-client cases run against every provider adapter
//! (OpenAI-compatible, Anthropic, Gemini) through the gateway and the simulator.
//!
//! Each case is one test that loops over [`TARGETS`], so a failure names the target. Where a
//! dialect's upstream body is checked, the per-dialect accessors below say where each dialect
//! puts the piece in question; where the simulators behave differently per dialect, the
//! difference is a field of the target table with a comment saying why.

mod common;

use common::{Harness, chat, sse_data, start};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use switchyard_ledger::{AttemptOutcome, Record};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    OpenAi,
    Anthropic,
    Gemini,
}

struct Target {
    /// Route name, and the `model` an OpenAI client sends.
    route: &'static str,
    /// Provider name in the gateway config.
    provider: &'static str,
    dialect: Dialect,
    /// Catalog model the route targets.
    model: &'static str,
    /// The prefix of the ledger's `price_version` (`<price provider>/<model>@…`).
    price_provider: &'static str,
    /// Tool calls the dialect's simulator makes for two tools and the word "parallel". The
    /// OpenAI simulator (`crates/sim/src/chat.rs`) always answers with exactly one call (the
    /// first tool); the Anthropic and Gemini simulators call the first two tools.
    parallel_calls: usize,
    /// `finish_reason` for an answer cut by `max_tokens: 1`. The OpenAI simulator emits one
    /// token and reports "stop" (it never reports "length"); the Anthropic and Gemini simulators
    /// report hitting the limit (`max_tokens` / `MAX_TOKENS`), which the gateway maps to
    /// OpenAI's "length".
    truncated_finish: &'static str,
    /// Whether the dialect's simulator honours a JSON schema response format. The Anthropic
    /// simulator ignores `output_config.format` (its planner gets `schema: None`,
    /// `crates/sim/src/anthropic.rs`), so for it only the upstream request is checked: a
    /// limitation of the simulator, not of the gateway.
    sim_honours_json_schema: bool,
}

const TARGETS: &[Target] = &[
    Target {
        route: "openai",
        provider: "oai",
        dialect: Dialect::OpenAi,
        model: "gpt-4o-mini",
        price_provider: "openai",
        parallel_calls: 1,
        truncated_finish: "stop",
        sim_honours_json_schema: true,
    },
    Target {
        route: "anthropic",
        provider: "claude",
        dialect: Dialect::Anthropic,
        model: "claude-sonnet-4-5",
        price_provider: "anthropic",
        parallel_calls: 2,
        truncated_finish: "length",
        sim_honours_json_schema: false,
    },
    Target {
        route: "gemini",
        provider: "google",
        dialect: Dialect::Gemini,
        model: "gemini-2.5-flash",
        price_provider: "gemini",
        parallel_calls: 2,
        truncated_finish: "length",
        sim_honours_json_schema: true,
    },
];

const SIM: &str = "seed = 11\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

/// The gateway config: one provider and one route per target.
fn gateway_toml() -> String {
    let mut s = String::from("[ledger]\nflush_interval_ms = 10000\n");
    for t in TARGETS {
        let (kind, base, extra) = match t.dialect {
            Dialect::OpenAi => (
                "openai-compatible",
                "SIM_URL/v1",
                "price_provider = \"openai\"\n",
            ),
            Dialect::Anthropic => ("anthropic", "SIM_URL", ""),
            Dialect::Gemini => ("gemini", "SIM_URL", ""),
        };
        s.push_str(&format!(
            "[providers.{p}]\nkind = \"{kind}\"\nbase_url = \"{base}\"\napi_key_env = \"SIM_KEY\"\n{extra}",
            p = t.provider
        ));
    }
    for t in TARGETS {
        s.push_str(&format!(
            "[[routes]]\nname = \"{}\"\ntargets = [{{ provider = \"{}\", model = \"{}\" }}]\n",
            t.route, t.provider, t.model
        ));
    }
    s
}

/// A simulator where every target's model has `fault = 1.0`.
fn faulty_sim(fault: &str) -> String {
    let mut s = SIM.to_string();
    for t in TARGETS {
        s.push_str(&format!("[models.\"{}\"]\n{fault} = 1.0\n", t.model));
    }
    s
}

async fn harness() -> Harness {
    start(SIM, &gateway_toml()).await
}

/// The body the simulator last received.
async fn upstream(h: &Harness) -> Value {
    h.get(&format!("{}/sim/last", h.sim)).await.json()
}

/// The ledger records of `t`'s route, in the order the requests finished.
fn records_of<'r>(recs: &'r [Record], t: &Target) -> Vec<&'r Record> {
    recs.iter().filter(|r| r.route == t.route).collect()
}

/// The text of an upstream content value: a string, or the text of its blocks/parts.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i.get("text") {
                Some(t) => text_of(t),
                None => text_of(i.get("content").unwrap_or(&Value::Null)),
            })
            .collect(),
        _ => String::new(),
    }
}

/// The system prompt as the dialect carries it upstream.
fn upstream_system(d: Dialect, up: &Value) -> String {
    match d {
        Dialect::OpenAi => up["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| is_instruction(m))
            .map(|m| text_of(&m["content"]))
            .collect(),
        Dialect::Anthropic => text_of(&up["system"]),
        Dialect::Gemini => text_of(&up["systemInstruction"]["parts"]),
    }
}

/// An OpenAI `system` or `developer` message.
fn is_instruction(m: &Value) -> bool {
    m["role"] == "system" || m["role"] == "developer"
}

/// The conversation turns (without the system prompt) as the dialect carries them upstream.
fn upstream_turns(d: Dialect, up: &Value) -> Vec<Value> {
    let all = match d {
        Dialect::OpenAi | Dialect::Anthropic => up["messages"].as_array(),
        Dialect::Gemini => up["contents"].as_array(),
    };
    all.into_iter()
        .flatten()
        .filter(|m| !is_instruction(m))
        .cloned()
        .collect()
}

/// The text of one upstream turn.
fn turn_text(d: Dialect, turn: &Value) -> String {
    match d {
        Dialect::OpenAi | Dialect::Anthropic => text_of(&turn["content"]),
        Dialect::Gemini => text_of(&turn["parts"]),
    }
}

/// The output token limit as the dialect carries it upstream.
fn upstream_limit(d: Dialect, up: &Value) -> Option<u64> {
    match d {
        Dialect::OpenAi => up
            .get("max_completion_tokens")
            .or_else(|| up.get("max_tokens"))
            .and_then(Value::as_u64),
        Dialect::Anthropic => up["max_tokens"].as_u64(),
        Dialect::Gemini => up["generationConfig"]["maxOutputTokens"].as_u64(),
    }
}

/// The names of the tools declared upstream.
fn upstream_tool_names(d: Dialect, up: &Value) -> Vec<String> {
    let names: Vec<&Value> = match d {
        Dialect::OpenAi => up["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| &t["function"]["name"])
            .collect(),
        Dialect::Anthropic => up["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| &t["name"])
            .collect(),
        Dialect::Gemini => up["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["functionDeclarations"].as_array())
            .flatten()
            .map(|f| &f["name"])
            .collect(),
    };
    names
        .into_iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

fn weather_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_weather", "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
            "required": ["city"], "additionalProperties": false}}})
}

fn time_tool() -> Value {
    json!({"type": "function", "function": {"name": "get_time", "description": "Local time",
        "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}},
            "required": ["timezone"]}}})
}

const UNICODE: &str = "Grüße, 東京 🚀";

/// A tool whose only valid argument is [`UNICODE`], so the simulators answer with it.
fn unicode_tool() -> Value {
    json!({"type": "function", "function": {"name": "echo",
        "parameters": {"type": "object", "properties": {"text": {"type": "string", "enum": [UNICODE]}},
            "required": ["text"]}}})
}

/// Parses the chunks of an OpenAI stream that ends with `[DONE]`.
fn chunks(route: &str, body: &str) -> Vec<Value> {
    let data = sse_data(body);
    assert_eq!(
        data.last().map(String::as_str),
        Some("[DONE]"),
        "{route}: stream ends with [DONE]: {body}"
    );
    data.iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| match serde_json::from_str::<Value>(d) {
            Ok(v) => v,
            Err(e) => panic!("{route}: chunk is not JSON ({e}): {d}"),
        })
        .collect()
}

/// A tool call reassembled from stream deltas.
#[derive(Debug, Default)]
struct StreamedCall {
    id: String,
    name: String,
    arguments: String,
}

/// Reassembles streamed tool calls by `index`, as OpenAI clients do: `id` and `name` come once,
/// `arguments` is concatenated.
fn reassemble(route: &str, chunks: &[Value]) -> BTreeMap<u64, StreamedCall> {
    let mut calls: BTreeMap<u64, StreamedCall> = BTreeMap::new();
    for c in chunks {
        for choice in c["choices"].as_array().into_iter().flatten() {
            for d in choice["delta"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let Some(i) = d["index"].as_u64() else {
                    panic!("{route}: tool-call delta without an index: {d}");
                };
                let call = calls.entry(i).or_default();
                if let Some(id) = d["id"].as_str() {
                    assert!(
                        call.id.is_empty() || call.id == id,
                        "{route}: call {i} changed id: {d}"
                    );
                    assert_eq!(
                        d["type"], "function",
                        "{route}: the delta introducing call {i} names its type: {d}"
                    );
                    call.id = id.to_string();
                }
                if let Some(name) = d["function"]["name"].as_str() {
                    assert!(
                        call.name.is_empty() || call.name == name,
                        "{route}: call {i} changed name: {d}"
                    );
                    call.name = name.to_string();
                }
                if let Some(a) = d["function"]["arguments"].as_str() {
                    call.arguments.push_str(a);
                }
            }
        }
    }
    calls
}

fn finish_reasons(chunks: &[Value]) -> Vec<String> {
    chunks
        .iter()
        .flat_map(|c| c["choices"].as_array().into_iter().flatten())
        .filter_map(|ch| ch["finish_reason"].as_str().map(str::to_string))
        .collect()
}

const OPENAI_FINISH_REASONS: &[&str] = &["stop", "length", "tool_calls", "content_filter"];

#[tokio::test]
async fn plain_text() {
    let h = harness().await;
    for t in TARGETS {
        let r = t.route;
        let a = h
            .post("/v1/chat/completions", &chat(r, "Hello there"))
            .await;
        assert_eq!(a.status, 200, "{r}: {}", a.text());
        let v = a.json();
        assert_eq!(v["object"], "chat.completion", "{r}: {v}");
        assert!(v["id"].as_str().is_some_and(|s| !s.is_empty()), "{r}: {v}");
        let choice = &v["choices"][0];
        assert_eq!(choice["index"], 0, "{r}: {v}");
        assert_eq!(choice["message"]["role"], "assistant", "{r}: {v}");
        assert!(
            choice["message"]["content"]
                .as_str()
                .is_some_and(|c| !c.trim().is_empty()),
            "{r}: {v}"
        );
        assert_eq!(choice["finish_reason"], "stop", "{r}: {v}");
        let u = &v["usage"];
        let (p, c) = (
            u["prompt_tokens"].as_u64().unwrap_or(0),
            u["completion_tokens"].as_u64().unwrap_or(0),
        );
        assert!(p > 0 && c > 0, "{r}: usage {u}");
        assert_eq!(u["total_tokens"].as_u64(), Some(p + c), "{r}: usage {u}");
        assert_eq!(
            a.header("x-switchyard-provider").as_deref(),
            Some(t.provider),
            "{r}"
        );
        assert_eq!(
            a.header("x-switchyard-model").as_deref(),
            Some(t.model),
            "{r}"
        );
        let up = upstream(&h).await;
        let turns = upstream_turns(t.dialect, &up);
        assert_eq!(turns.len(), 1, "{r}: upstream {up}");
        assert_eq!(
            turn_text(t.dialect, &turns[0]),
            "Hello there",
            "{r}: upstream {up}"
        );
        if t.dialect != Dialect::Gemini {
            // Gemini carries the model in the URL, not the body.
            assert_eq!(up["model"], t.model, "{r}: upstream {up}");
        }
    }
    let recs = h.finish().await;
    assert_eq!(recs.len(), TARGETS.len());
    for t in TARGETS {
        let rs = records_of(&recs, t);
        assert_eq!(rs.len(), 1, "{}", t.route);
        let rec = rs[0];
        assert_eq!(rec.status, 200, "{}", t.route);
        assert_eq!(rec.provider.as_deref(), Some(t.provider), "{}", t.route);
        assert_eq!(rec.model.as_deref(), Some(t.model), "{}", t.route);
        assert!(
            !rec.usage_estimated && rec.usage.input > 0 && rec.usage.output > 0,
            "{}: {:?}",
            t.route,
            rec.usage
        );
        let prefix = format!("{}/{}@", t.price_provider, t.model);
        assert!(
            rec.price_version
                .as_deref()
                .is_some_and(|p| p.starts_with(&prefix)),
            "{}: price version {:?}",
            t.route,
            rec.price_version
        );
        assert!(rec.cost_usd.is_some(), "{}", t.route);
    }
}

#[tokio::test]
async fn system_prompt_reaches_the_upstream_in_its_own_field() {
    let h = harness().await;
    let system = "You are a terse assistant. Answer in one sentence.";
    // OpenAI clients send the instruction as `system` or (newer models) `developer`, with
    // string or text-part content.
    let variants = [
        ("system", json!(system)),
        ("developer", json!(system)),
        ("system", json!([{"type": "text", "text": system}])),
    ];
    for t in TARGETS {
        for (role, content) in &variants {
            let r = t.route;
            let body = json!({"model": r, "messages": [
                {"role": role, "content": content},
                {"role": "user", "content": "Hello there"}]});
            let a = h.post("/v1/chat/completions", &body).await;
            assert_eq!(a.status, 200, "{r} ({role}): {}", a.text());
            let up = upstream(&h).await;
            assert_eq!(
                upstream_system(t.dialect, &up),
                system,
                "{r} ({role}): upstream {up}"
            );
            if t.dialect == Dialect::OpenAi {
                assert_eq!(
                    up["messages"][0]["role"], *role,
                    "{r}: passed through: {up}"
                );
            }
            let turns = upstream_turns(t.dialect, &up);
            assert_eq!(
                turns.len(),
                1,
                "{r} ({role}): the system prompt is not a turn: {up}"
            );
            assert_eq!(
                turn_text(t.dialect, &turns[0]),
                "Hello there",
                "{r} ({role}): the user turn is unchanged: {up}"
            );
        }
    }
    h.finish().await;
}

#[tokio::test]
async fn tool_call_then_tool_result_gets_a_text_answer() {
    let h = harness().await;
    let question = "What is the weather in Paris?";
    for t in TARGETS {
        let r = t.route;
        let mut body = chat(r, question);
        body["tools"] = json!([weather_tool()]);
        let a = h.post("/v1/chat/completions", &body).await;
        assert_eq!(a.status, 200, "{r}: {}", a.text());
        let v = a.json();
        assert_eq!(v["choices"][0]["finish_reason"], "tool_calls", "{r}: {v}");
        let message = v["choices"][0]["message"].clone();
        assert_eq!(message["role"], "assistant", "{r}: {v}");
        let calls = message["tool_calls"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(calls.len(), 1, "{r}: {v}");
        let call = &calls[0];
        assert_eq!(call["type"], "function", "{r}: {v}");
        assert_eq!(call["function"]["name"], "get_weather", "{r}: {v}");
        let id = call["id"].as_str().unwrap_or("").to_string();
        assert!(!id.is_empty(), "{r}: tool call without an id: {v}");
        let args: Value =
            serde_json::from_str(call["function"]["arguments"].as_str().unwrap_or(""))
                .unwrap_or(Value::Null);
        assert!(args["city"].is_string(), "{r}: arguments {args} from {v}");

        body["messages"] = json!([
            {"role": "user", "content": question},
            message,
            {"role": "tool", "tool_call_id": id, "content": "18 degrees and sunny"}
        ]);
        let b = h.post("/v1/chat/completions", &body).await;
        assert_eq!(b.status, 200, "{r}: {}", b.text());
        let w = b.json();
        assert_eq!(w["choices"][0]["finish_reason"], "stop", "{r}: {w}");
        assert!(
            w["choices"][0]["message"]["content"]
                .as_str()
                .is_some_and(|c| !c.trim().is_empty()),
            "{r}: the second turn answers in text: {w}"
        );
        assert!(
            w["choices"][0]["message"]["tool_calls"]
                .as_array()
                .is_none_or(|c| c.is_empty()),
            "{r}: no further tool call: {w}"
        );

        let up = upstream(&h).await;
        let turns = upstream_turns(t.dialect, &up);
        assert_eq!(turns.len(), 3, "{r}: user, call, result: {up}");
        match t.dialect {
            Dialect::OpenAi => {
                assert_eq!(turns[1]["tool_calls"][0]["id"], id.as_str(), "{r}: {up}");
                assert_eq!(turns[2]["role"], "tool", "{r}: {up}");
                assert_eq!(turns[2]["tool_call_id"], id.as_str(), "{r}: {up}");
                assert_eq!(turns[2]["content"], "18 degrees and sunny", "{r}: {up}");
            }
            Dialect::Anthropic => {
                assert_eq!(turns[1]["role"], "assistant", "{r}: {up}");
                let uses: Vec<&Value> = turns[1]["content"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|b| b["type"] == "tool_use")
                    .collect();
                assert_eq!(uses.len(), 1, "{r}: {up}");
                assert_eq!(uses[0]["id"], id.as_str(), "{r}: {up}");
                assert_eq!(uses[0]["name"], "get_weather", "{r}: {up}");
                assert_eq!(uses[0]["input"], args, "{r}: {up}");
                assert_eq!(turns[2]["role"], "user", "{r}: {up}");
                let result = &turns[2]["content"][0];
                assert_eq!(result["type"], "tool_result", "{r}: {up}");
                assert_eq!(result["tool_use_id"], id.as_str(), "{r}: {up}");
                assert_eq!(
                    text_of(&result["content"]),
                    "18 degrees and sunny",
                    "{r}: {up}"
                );
            }
            Dialect::Gemini => {
                assert_eq!(turns[1]["role"], "model", "{r}: {up}");
                let fc = &turns[1]["parts"][0]["functionCall"];
                assert_eq!(fc["name"], "get_weather", "{r}: {up}");
                assert_eq!(fc["args"], args, "{r}: {up}");
                let fr = &turns[2]["parts"][0]["functionResponse"];
                assert_eq!(fr["name"], "get_weather", "{r}: {up}");
                assert_eq!(
                    fr["response"]["result"], "18 degrees and sunny",
                    "{r}: {up}"
                );
            }
        }
    }
    let recs = h.finish().await;
    for t in TARGETS {
        let rs = records_of(&recs, t);
        assert_eq!(rs.len(), 2, "{}", t.route);
        assert!(rs.iter().all(|r| r.status == 200), "{}", t.route);
    }
}

#[tokio::test]
async fn parallel_tool_calls() {
    let h = harness().await;
    for t in TARGETS {
        let r = t.route;
        let mut body = chat(
            r,
            "Check the weather in Tokyo and the local time there, in parallel.",
        );
        body["tools"] = json!([weather_tool(), time_tool()]);
        let a = h.post("/v1/chat/completions", &body).await;
        assert_eq!(a.status, 200, "{r}: {}", a.text());
        let v = a.json();
        assert_eq!(v["choices"][0]["finish_reason"], "tool_calls", "{r}: {v}");
        let calls = v["choices"][0]["message"]["tool_calls"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!calls.is_empty(), "{r}: at least one call: {v}");
        // Exactly what the dialect's simulator makes; see `Target::parallel_calls`.
        assert_eq!(calls.len(), t.parallel_calls, "{r}: {v}");
        let names: Vec<&str> = calls
            .iter()
            .filter_map(|c| c["function"]["name"].as_str())
            .collect();
        assert_eq!(
            names,
            ["get_weather", "get_time"][..t.parallel_calls],
            "{r}: {v}"
        );
        let mut ids: Vec<&str> = calls.iter().filter_map(|c| c["id"].as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), calls.len(), "{r}: distinct ids: {v}");
        for c in &calls {
            assert_eq!(c["type"], "function", "{r}: {v}");
            let args: Result<Value, _> =
                serde_json::from_str(c["function"]["arguments"].as_str().unwrap_or(""));
            assert!(args.is_ok_and(|a| a.is_object()), "{r}: arguments of {c}");
        }
        let up = upstream(&h).await;
        assert_eq!(
            upstream_tool_names(t.dialect, &up),
            ["get_weather", "get_time"],
            "{r}: both tools go upstream: {up}"
        );
        if t.dialect == Dialect::Anthropic {
            assert_ne!(
                up["tool_choice"]["disable_parallel_tool_use"], true,
                "{r}: parallel use is not disabled: {up}"
            );
        }

        // Every result goes back in one turn (Anthropic and Gemini require the results of one
        // turn's calls to share the next turn), and the model then answers in text.
        let mut messages = vec![
            json!({"role": "user", "content": "Check the weather in Tokyo and the local time there, in parallel."}),
            v["choices"][0]["message"].clone(),
        ];
        let ids: Vec<&str> = calls.iter().filter_map(|c| c["id"].as_str()).collect();
        for (i, id) in ids.iter().enumerate() {
            messages.push(
                json!({"role": "tool", "tool_call_id": id, "content": format!("result {i}")}),
            );
        }
        body["messages"] = json!(messages);
        let b = h.post("/v1/chat/completions", &body).await;
        assert_eq!(b.status, 200, "{r}: {}", b.text());
        let w = b.json();
        assert_eq!(w["choices"][0]["finish_reason"], "stop", "{r}: {w}");
        let up = upstream(&h).await;
        let turns = upstream_turns(t.dialect, &up);
        match t.dialect {
            Dialect::OpenAi => assert_eq!(turns.len(), 2 + ids.len(), "{r}: {up}"),
            Dialect::Anthropic => {
                assert_eq!(turns.len(), 3, "{r}: results share one user turn: {up}");
                let result_ids: Vec<&str> = turns[2]["content"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|b| b["type"] == "tool_result")
                    .filter_map(|b| b["tool_use_id"].as_str())
                    .collect();
                assert_eq!(result_ids, ids, "{r}: {up}");
            }
            Dialect::Gemini => {
                assert_eq!(turns.len(), 3, "{r}: responses share one turn: {up}");
                let names: Vec<&str> = turns[2]["parts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["functionResponse"]["name"].as_str())
                    .collect();
                assert_eq!(
                    names,
                    ["get_weather", "get_time"][..t.parallel_calls],
                    "{r}: {up}"
                );
            }
        }
    }
    h.finish().await;
}

#[tokio::test]
async fn json_schema_response_format() {
    let h = harness().await;
    let format = json!({"type": "json_schema", "json_schema": {"name": "weather", "strict": true,
        "schema": {"type": "object", "properties": {"city": {"type": "string"}, "celsius": {"type": "number"}},
            "required": ["city", "celsius"], "additionalProperties": false}}});
    for t in TARGETS {
        let r = t.route;
        let mut body = chat(r, "Give me the weather in Paris as JSON.");
        body["response_format"] = format.clone();
        let a = h.post("/v1/chat/completions", &body).await;
        assert_eq!(a.status, 200, "{r}: {}", a.text());
        let v = a.json();
        let content = v["choices"][0]["message"]["content"].as_str().unwrap_or("");
        let up = upstream(&h).await;
        let required = json!(["city", "celsius"]);
        match t.dialect {
            Dialect::OpenAi => {
                assert_eq!(up["response_format"], format, "{r}: passed through: {up}");
            }
            Dialect::Anthropic => {
                let f = &up["output_config"]["format"];
                assert_eq!(f["type"], "json_schema", "{r}: {up}");
                assert_eq!(f["schema"]["required"], required, "{r}: {up}");
            }
            Dialect::Gemini => {
                let g = &up["generationConfig"];
                assert_eq!(g["responseMimeType"], "application/json", "{r}: {up}");
                let schema = g
                    .get("responseJsonSchema")
                    .or_else(|| g.get("responseSchema"))
                    .unwrap_or(&Value::Null);
                assert_eq!(schema["required"], required, "{r}: {up}");
                assert!(
                    schema.get("additionalProperties").is_none(),
                    "{r}: Gemini rejects additionalProperties: {up}"
                );
            }
        }
        if !t.sim_honours_json_schema {
            // See `Target::sim_honours_json_schema`: this simulator answers in prose.
            continue;
        }
        let parsed: Value = serde_json::from_str(content)
            .unwrap_or_else(|e| panic!("{r}: content is not JSON ({e}): {content:?}"));
        assert!(parsed["city"].is_string(), "{r}: {parsed}");
        assert!(parsed["celsius"].is_number(), "{r}: {parsed}");
        assert_eq!(v["choices"][0]["finish_reason"], "stop", "{r}: {v}");
    }
    h.finish().await;
}

#[tokio::test]
async fn streamed_tool_call_deltas_reassemble_by_index() {
    let h = harness().await;
    for t in TARGETS {
        let r = t.route;
        let mut body = chat(
            r,
            "Check the weather in Tokyo and the local time there, in parallel.",
        );
        body["tools"] = json!([weather_tool(), time_tool()]);
        body["stream"] = json!(true);
        let a = h.post("/v1/chat/completions", &body).await;
        assert_eq!(a.status, 200, "{r}: {}", a.text());
        assert_eq!(
            a.header("content-type").as_deref(),
            Some("text/event-stream"),
            "{r}"
        );
        let chunks = chunks(r, &a.text());
        assert_eq!(
            chunks.first().map(|c| &c["choices"][0]["delta"]["role"]),
            Some(&json!("assistant")),
            "{r}: the first delta carries the role: {chunks:?}"
        );
        let mut ids: Vec<&str> = chunks.iter().filter_map(|c| c["id"].as_str()).collect();
        ids.dedup();
        assert_eq!(
            ids.len(),
            1,
            "{r}: one completion id across chunks: {ids:?}"
        );
        assert!(
            chunks
                .iter()
                .all(|c| c["object"] == "chat.completion.chunk"),
            "{r}: {chunks:?}"
        );
        let calls = reassemble(r, &chunks);
        let indices: Vec<u64> = calls.keys().copied().collect();
        let want: Vec<u64> = (0..t.parallel_calls as u64).collect();
        assert_eq!(indices, want, "{r}: indices {calls:?}");
        let names: Vec<&str> = calls.values().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["get_weather", "get_time"][..t.parallel_calls],
            "{r}"
        );
        for (i, c) in &calls {
            assert!(!c.id.is_empty(), "{r}: call {i} has no id: {c:?}");
            let args: Value = serde_json::from_str(&c.arguments)
                .unwrap_or_else(|e| panic!("{r}: call {i} arguments are not JSON ({e}): {c:?}"));
            let key = if c.name == "get_weather" {
                "city"
            } else {
                "timezone"
            };
            assert!(args[key].is_string(), "{r}: call {i}: {args}");
        }
        assert_eq!(
            finish_reasons(&chunks),
            ["tool_calls"],
            "{r}: one finish chunk"
        );
    }
    let recs = h.finish().await;
    for t in TARGETS {
        let rs = records_of(&recs, t);
        assert_eq!(rs.len(), 1, "{}", t.route);
        assert!(rs[0].streamed && rs[0].error_class.is_none(), "{}", t.route);
        assert_eq!(rs[0].status, 200, "{}", t.route);
    }
}

#[tokio::test]
async fn unicode_round_trips_in_and_out() {
    let h = harness().await;
    for t in TARGETS {
        let r = t.route;
        let mut body = chat(r, UNICODE);
        body["messages"] = json!([{"role": "system", "content": format!("Répondez: {UNICODE}")},
            {"role": "user", "content": UNICODE}]);
        body["tools"] = json!([unicode_tool()]);
        let a = h.post("/v1/chat/completions", &body).await;
        assert_eq!(a.status, 200, "{r}: {}", a.text());
        let up = upstream(&h).await;
        assert_eq!(
            upstream_system(t.dialect, &up),
            format!("Répondez: {UNICODE}"),
            "{r}: {up}"
        );
        let turns = upstream_turns(t.dialect, &up);
        assert_eq!(turn_text(t.dialect, &turns[0]), UNICODE, "{r}: {up}");
        // Out: the simulators answer with the schema's only allowed value.
        let v = a.json();
        let args: Value = serde_json::from_str(
            v["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .unwrap_or(""),
        )
        .unwrap_or(Value::Null);
        assert_eq!(args["text"], UNICODE, "{r}: {v}");

        // And streamed, where the arguments arrive in pieces cut between characters.
        body["stream"] = json!(true);
        let s = h.post("/v1/chat/completions", &body).await;
        assert_eq!(s.status, 200, "{r}: {}", s.text());
        let calls = reassemble(r, &chunks(r, &s.text()));
        let streamed: Value = calls
            .get(&0)
            .and_then(|c| serde_json::from_str(&c.arguments).ok())
            .unwrap_or(Value::Null);
        assert_eq!(streamed["text"], UNICODE, "{r}: {calls:?}");
    }
    h.finish().await;
}

#[tokio::test]
async fn one_token_limit_gives_a_short_answer_with_an_openai_finish_reason() {
    let h = harness().await;
    for t in TARGETS {
        let r = t.route;
        let mut body = chat(r, "Write a long essay about the sea.");
        body["max_tokens"] = json!(1);
        let a = h.post("/v1/chat/completions", &body).await;
        assert_eq!(a.status, 200, "{r}: {}", a.text());
        let v = a.json();
        let finish = v["choices"][0]["finish_reason"].as_str().unwrap_or("");
        assert!(OPENAI_FINISH_REASONS.contains(&finish), "{r}: {v}");
        assert!(["length", "stop"].contains(&finish), "{r}: {v}");
        // Exactly what the dialect reports; see `Target::truncated_finish`.
        assert_eq!(finish, t.truncated_finish, "{r}: {v}");
        let content = v["choices"][0]["message"]["content"].as_str().unwrap_or("");
        assert!(
            content.split_whitespace().count() <= 1,
            "{r}: one token at most: {content:?}"
        );
        assert_eq!(v["usage"]["completion_tokens"], 1, "{r}: {v}");
        let up = upstream(&h).await;
        assert_eq!(upstream_limit(t.dialect, &up), Some(1), "{r}: {up}");

        // Streamed, the same finish reason and the usage chunk OpenAI clients expect.
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
        let s = h.post("/v1/chat/completions", &body).await;
        assert_eq!(s.status, 200, "{r}: {}", s.text());
        let chunks = chunks(r, &s.text());
        assert_eq!(
            finish_reasons(&chunks),
            [t.truncated_finish],
            "{r}: {chunks:?}"
        );
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert!(text.split_whitespace().count() <= 1, "{r}: {text:?}");
        let last = chunks.last().unwrap_or(&Value::Null);
        assert_eq!(
            last["choices"],
            json!([]),
            "{r}: the usage chunk has no choices: {last}"
        );
        assert_eq!(last["usage"]["completion_tokens"], 1, "{r}: {last}");
    }
    h.finish().await;
}

#[tokio::test]
async fn upstream_error_is_a_502_in_openai_shape_with_attempts_recorded() {
    let h = start(&faulty_sim("error_rate"), &gateway_toml()).await;
    for t in TARGETS {
        let r = t.route;
        let a = h.post("/v1/chat/completions", &chat(r, "hi")).await;
        assert_eq!(a.status, 502, "{r}: {}", a.text());
        assert!(
            a.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{r}"
        );
        let v = a.json();
        let e = &v["error"];
        assert!(e.is_object(), "{r}: {}", a.text());
        for field in ["message", "type", "param", "code"] {
            assert!(e.get(field).is_some(), "{r}: error.{field} missing: {v}");
        }
        assert_eq!(e["type"], "server_error", "{r}: {v}");
        assert_eq!(e["code"], "upstream_error", "{r}: {v}");
        let msg = e["message"].as_str().unwrap_or("");
        assert!(
            msg.contains(&format!("{}/{}", t.provider, t.model)) && msg.contains("HTTP 500"),
            "{r}: {msg}"
        );

        // A streamed request fails the same way: the upstream failed before any byte was
        // sent, so the client gets the 502 itself rather than a stream.
        let mut body = chat(r, "hi");
        body["stream"] = json!(true);
        let s = h.post("/v1/chat/completions", &body).await;
        assert_eq!(s.status, 502, "{r}: {}", s.text());
        assert_eq!(
            s.json()["error"]["code"],
            "upstream_error",
            "{r}: {}",
            s.text()
        );
    }
    let recs = h.finish().await;
    for t in TARGETS {
        let rs = records_of(&recs, t);
        assert_eq!(rs.len(), 2, "{}", t.route);
        for rec in rs {
            assert_eq!(rec.status, 502, "{}", t.route);
            assert_eq!(
                rec.error_class.as_deref(),
                Some("upstream_error"),
                "{}",
                t.route
            );
            // The first call and the route's one default retry, both recorded.
            assert_eq!(rec.attempts.len(), 2, "{}: {:?}", t.route, rec.attempts);
            for at in &rec.attempts {
                assert_eq!(at.outcome, AttemptOutcome::ServerError, "{}", t.route);
                assert_eq!(at.status, Some(500), "{}", t.route);
                assert_eq!(
                    (at.provider.as_str(), at.model.as_str()),
                    (t.provider, t.model),
                    "{}",
                    t.route
                );
            }
        }
    }
}

#[tokio::test]
async fn mid_stream_disconnect_ends_with_an_openai_error_event() {
    let h = start(&faulty_sim("disconnect_rate"), &gateway_toml()).await;
    for t in TARGETS {
        let r = t.route;
        let mut body = chat(r, "Tell me a long story about lighthouses.");
        body["stream"] = json!(true);
        let a = h.post("/v1/chat/completions", &body).await;
        assert_eq!(a.status, 200, "{r}: {}", a.text());
        let data = sse_data(&a.text());
        assert!(
            !data.iter().any(|d| d == "[DONE]"),
            "{r}: a broken stream must not claim to be done: {data:?}"
        );
        let Some((last, before)) = data.split_last() else {
            panic!("{r}: empty stream");
        };
        let last: Value = serde_json::from_str(last).unwrap_or(Value::Null);
        assert_eq!(
            last["error"]["code"], "upstream_stream_error",
            "{r}: {data:?}"
        );
        assert_eq!(last["error"]["type"], "server_error", "{r}: {data:?}");
        assert!(
            last["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{r}: {last}"
        );
        assert!(
            before.iter().any(|d| serde_json::from_str::<Value>(d)
                .is_ok_and(|c| c["object"] == "chat.completion.chunk")),
            "{r}: the stream began before it broke: {data:?}"
        );
    }
    let recs = h.finish().await;
    for t in TARGETS {
        let rs = records_of(&recs, t);
        assert_eq!(rs.len(), 1, "{}", t.route);
        let rec = rs[0];
        assert!(rec.streamed, "{}", t.route);
        assert_eq!(
            rec.error_class.as_deref(),
            Some("stream_error"),
            "{}",
            t.route
        );
        assert_eq!(
            rec.attempts.last().map(|a| a.outcome),
            Some(AttemptOutcome::StreamError),
            "{}: {:?}",
            t.route,
            rec.attempts
        );
    }
}
