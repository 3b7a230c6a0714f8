//! Dialect-neutral pieces shared by the Anthropic and Gemini simulators: a planner that decides
//! the answer from a normalised request, the fault draw, and paced streaming of prepared frames.
//!
//! Each dialect translates its request into an [`Ask`], plans an [`Outcome`] and renders it in
//! its own wire format; the latency model and the fault probabilities are the same everywhere.

use crate::Sim;
use crate::chat::{sleep, split_json};
use crate::config::Behaviour;
use crate::synth;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use std::time::Duration;

/// How the request constrains tool use.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ToolMode {
    Auto,
    /// Some tool must be called.
    Any,
    None,
    /// This tool must be called.
    Named(String),
}

/// A tool the model may call: its name and the JSON Schema of its input.
pub(crate) struct Tool {
    pub name: String,
    pub schema: Value,
}

/// A request, normalised across dialects.
pub(crate) struct Ask {
    pub model: String,
    /// All prompt text, joined: it seeds the answer and is searched for "parallel".
    pub prompt: String,
    pub tools: Vec<Tool>,
    pub mode: ToolMode,
    /// The last turn is the user's own words (not a tool result): the model acts on it.
    pub awaiting: bool,
    pub parallel: bool,
    /// Answer with JSON matching this schema.
    pub schema: Option<Value>,
    /// Output token limit, thinking included.
    pub limit: u64,
    pub stop: Vec<String>,
    /// Thinking budget in tokens, when the model thinks.
    pub thinking: Option<u64>,
}

/// One tool call: a stable id seed, the tool's name and arguments that fit its schema.
pub(crate) struct Call {
    pub key: u64,
    pub name: String,
    pub args: Value,
}

/// Why generation ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Finish {
    End,
    Limit,
    Stop(String),
    Tool,
}

/// What the simulated model says: thoughts, then text or tool calls.
pub(crate) struct Outcome {
    pub thoughts: Vec<String>,
    pub text: Vec<String>,
    pub calls: Vec<Call>,
    pub finish: Finish,
    pub seed: u64,
}

impl Outcome {
    /// Visible output tokens (text and tool calls), without thinking.
    pub fn visible_tokens(&self) -> u64 {
        let calls: u64 = self
            .calls
            .iter()
            .map(|c| synth::approx_tokens(&c.name) + synth::approx_tokens(&c.args.to_string()))
            .sum();
        self.text.len() as u64 + calls
    }

    pub fn thought_tokens(&self) -> u64 {
        self.thoughts.len() as u64
    }
}

/// Decides the answer from the normalised request and the seed alone, so it is reproducible.
pub(crate) fn plan(ask: &Ask, seed: u64) -> Outcome {
    let h = synth::hash(&[&ask.model, &ask.prompt]) ^ seed;
    let limit = ask.limit.max(1);
    let thoughts = match ask.thinking {
        Some(budget) => {
            let n = (16 + h % 112)
                .min(budget.max(1))
                .min(limit.saturating_sub(1).max(1));
            synth::tokens(synth::splitmix(h ^ 0x74_6869_6e6b), n as usize)
        }
        None => Vec::new(),
    };
    let calls = choose_calls(ask, h);
    if !calls.is_empty() {
        return Outcome {
            thoughts,
            text: Vec::new(),
            calls,
            finish: Finish::Tool,
            seed: h,
        };
    }
    let room = limit.saturating_sub(thoughts.len() as u64).max(1);
    let (text, finish) = match &ask.schema {
        Some(schema) => (
            split_json(&synth::from_schema(schema, h, 0).to_string()),
            Finish::End,
        ),
        None => {
            // Realistic lengths: between a fifth of the room and the room, prompt-dependent.
            let lo = (room / 5).max(1);
            let n = lo + h % (room - lo + 1);
            let finish = if n == room {
                Finish::Limit
            } else {
                Finish::End
            };
            (synth::tokens(h, n as usize), finish)
        }
    };
    let (text, finish) = apply_stop(text, finish, &ask.stop);
    Outcome {
        thoughts,
        text,
        calls: Vec::new(),
        finish,
        seed: h,
    }
}

fn choose_calls(ask: &Ask, h: u64) -> Vec<Call> {
    if ask.tools.is_empty() || ask.mode == ToolMode::None {
        return Vec::new();
    }
    let chosen: Vec<&Tool> = match &ask.mode {
        ToolMode::Named(name) => ask
            .tools
            .iter()
            .find(|t| &t.name == name)
            .into_iter()
            .collect(),
        ToolMode::Auto if !ask.awaiting => Vec::new(),
        _ if ask.parallel && ask.tools.len() >= 2 && has_word(&ask.prompt, "parallel") => {
            ask.tools.iter().take(2).collect()
        }
        _ => ask.tools.iter().take(1).collect(),
    };
    chosen
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let key = synth::splitmix(h ^ (i as u64 + 1));
            Call {
                key,
                name: t.name.clone(),
                args: synth::from_schema(&t.schema, key, 0),
            }
        })
        .collect()
}

fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case(word))
}

/// Cuts the text before the first stop sequence it contains.
fn apply_stop(text: Vec<String>, finish: Finish, stop: &[String]) -> (Vec<String>, Finish) {
    let joined = text.concat();
    let Some((pos, seq)) = stop
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| joined.find(s.as_str()).map(|p| (p, s)))
        .min_by_key(|(p, _)| *p)
    else {
        return (text, finish);
    };
    let mut out = Vec::new();
    let mut at = 0;
    for tok in text {
        if at + tok.len() <= pos {
            at += tok.len();
            out.push(tok);
        } else {
            if let Some(head) = tok.get(..pos - at).filter(|h| !h.is_empty()) {
                out.push(head.to_string());
            }
            break;
        }
    }
    (out, Finish::Stop(seq.clone()))
}

/// The strings in a JSON array (others and non-arrays are ignored).
pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// Converts OpenAPI-style upper-case schema types ("OBJECT") to JSON Schema's ("object").
pub(crate) fn lower_types(schema: &Value) -> Value {
    match schema {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("type", Value::String(t)) => (k.clone(), json!(t.to_ascii_lowercase())),
                    _ => (k.clone(), lower_types(v)),
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(lower_types).collect()),
        other => other.clone(),
    }
}

/// A fault to inject instead of answering.
pub(crate) enum Fault {
    RateLimited,
    ServerError,
    /// The request was held for an hour first.
    Timeout,
}

/// One draw decides the fault: 429, then 500, then a timeout (held for an hour before returning).
pub(crate) async fn draw_fault(sim: &Sim, b: &Behaviour) -> Option<Fault> {
    let d = sim.draw();
    if d < b.rate_429 {
        return Some(Fault::RateLimited);
    }
    if d < b.rate_429 + b.error_rate {
        return Some(Fault::ServerError);
    }
    if d < b.rate_429 + b.error_rate + b.timeout_rate {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Some(Fault::Timeout);
    }
    None
}

/// Sets `retry-after` on a response.
pub(crate) fn with_retry_after(mut r: Response, seconds: u64) -> Response {
    if let Ok(v) = seconds.to_string().parse() {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// A JSON body with a status.
pub(crate) fn json_status(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// One prepared piece of a streamed body and the tokens it takes to generate.
pub(crate) struct Frame {
    pub bytes: Bytes,
    pub tokens: u32,
}

/// Streams `frames` after the time to first token, each paced by its tokens; with `disconnect`
/// the body fails halfway, like a dropped connection.
pub(crate) fn paced(
    frames: Vec<Frame>,
    b: Behaviour,
    disconnect: bool,
    content_type: &'static str,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let cut = if disconnect {
        frames.len() / 2
    } else {
        usize::MAX
    };
    tokio::spawn(async move {
        sleep(b.ttft()).await;
        for (i, f) in frames.into_iter().enumerate() {
            if i == cut {
                let _ = tx
                    .send(Err(std::io::Error::other("simulated disconnect")))
                    .await;
                return;
            }
            sleep(b.per_token() * f.tokens).await;
            if tx.send(Ok(f.bytes)).await.is_err() {
                return;
            }
        }
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    axum::http::Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Total generation delay for a whole (non-streamed) answer.
pub(crate) async fn wait_whole(b: &Behaviour, tokens: u64) {
    let n = u32::try_from(tokens).unwrap_or(u32::MAX);
    sleep(b.ttft() + b.per_token() * n).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(prompt: &str) -> Ask {
        Ask {
            model: "m".into(),
            prompt: prompt.into(),
            tools: Vec::new(),
            mode: ToolMode::Auto,
            awaiting: true,
            parallel: true,
            schema: None,
            limit: 64,
            stop: Vec::new(),
            thinking: None,
        }
    }

    #[test]
    fn stop_sequences_cut_the_text() {
        let full = plan(&ask("hello"), 1);
        let joined = full.text.concat();
        let word = joined.split(' ').nth(3).unwrap_or("the").to_string();
        let mut a = ask("hello");
        a.stop = vec![format!(" {word}")];
        let cut = plan(&a, 1);
        assert_eq!(cut.finish, Finish::Stop(format!(" {word}")));
        assert!(!cut.text.concat().contains(&format!(" {word}")));
    }

    #[test]
    fn parallel_calls_take_the_first_two_tools() {
        let mut a = ask("run these in parallel please");
        a.tools = ["a", "b", "c"]
            .iter()
            .map(|n| Tool {
                name: n.to_string(),
                schema: json!({"type": "object"}),
            })
            .collect();
        let names: Vec<String> = plan(&a, 1).calls.into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["a", "b"]);
        a.prompt = "parallelism".into();
        assert_eq!(plan(&a, 1).calls.len(), 1);
    }

    #[test]
    fn upper_case_types_are_lowered() {
        let s = lower_types(&json!({"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}}}));
        assert_eq!(s["properties"]["n"]["type"], "integer");
    }
}
