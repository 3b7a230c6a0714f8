//! How the tracer reads a request and a whole answer, on its export thread (never on the
//! request path): finish reasons for `gen_ai.response.finish_reasons`, and, with
//! `capture_content`, the prompt's and the answer's messages, every string redacted by the
//! evaluation crate's [`Redactor`] (built-in masks plus `[eval] redact_patterns`) before it
//! leaves the process.
//!
//! Both OpenAI's and Anthropic's shapes are read: the body is the one the client sent or got.

use memchr::memmem::Finder;
use serde::Deserialize;
use serde_json::Value;
use std::sync::LazyLock;
use switchyard_eval::redact::Redactor;
use switchyard_telemetry::trace::Content;

pub(crate) struct Dialects {
    pub redactor: Redactor,
}

/// The members of an answer content capture reads (OpenAI chat completion or Anthropic
/// message).
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    choices: Vec<Choice>,
    /// Anthropic: the answer's content blocks.
    content: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<Value>,
}

static FINISH: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(br#""finish_reason""#));
static STOP: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(br#""stop_reason""#));

/// OpenAI's `finish_reason`s in a JSON text (an answer), else Anthropic's `stop_reason`.
pub(crate) fn finish_reasons_in(json: &[u8]) -> Vec<String> {
    let reasons = member_strings(json, &FINISH);
    if reasons.is_empty() {
        member_strings(json, &STOP)
    } else {
        reasons
    }
}

/// One stream event's finish reasons, in the stream's dialect: the tee calls this per event
/// of a traced stream, so it searches once, with a searcher built once.
pub(crate) fn event_finish_reasons(data: &[u8], anthropic: bool) -> Vec<String> {
    member_strings(data, if anthropic { &STOP } else { &FINISH })
}

/// The string values of every `"name": "…"` member in a JSON text (`name` is the finder's
/// needle, quotes included), found by a byte search rather than a parse (the whole answer is
/// not decoded for two words). Sound for JSON: a quote inside a string value is escaped, so
/// an unescaped `"finish_reason"` followed by `:` is always a member name. A `null` value is
/// skipped; values are short ASCII words.
fn member_strings(json: &[u8], name: &Finder<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for at in name.find_iter(json) {
        let rest = json[at + name.needle().len()..].trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b":") else {
            continue;
        };
        let Some(rest) = rest.trim_ascii_start().strip_prefix(b"\"") else {
            continue;
        };
        if let Some(end) = memchr::memchr(b'"', rest) {
            if let Ok(s) = std::str::from_utf8(&rest[..end]) {
                out.push(s.to_string());
            }
        }
    }
    out
}

/// The members of a request the tracer reads.
#[derive(Deserialize)]
struct Prompt {
    messages: Option<Vec<Value>>,
    /// Anthropic's system prompt, outside `messages`.
    system: Option<Value>,
}

impl Dialects {
    fn redacted(&self, mut v: Value) -> String {
        self.redactor.redact_json(&mut v);
        v.to_string()
    }
}

impl Content for Dialects {
    fn finish_reasons(&self, answer: &[u8]) -> Vec<String> {
        finish_reasons_in(answer)
    }

    fn input(&self, request: &[u8]) -> Option<String> {
        let p: Prompt = serde_json::from_slice(request).ok()?;
        let mut messages = Vec::new();
        if let Some(system) = p.system {
            messages.push(serde_json::json!({"role": "system", "content": system}));
        }
        messages.extend(p.messages?);
        Some(self.redacted(Value::Array(messages)))
    }

    fn output(&self, answer: &[u8]) -> Option<String> {
        let a: Answer = serde_json::from_slice(answer).ok()?;
        let messages: Vec<Value> = match a.content {
            Some(content) => vec![serde_json::json!({"role": "assistant", "content": content})],
            None => a.choices.into_iter().filter_map(|c| c.message).collect(),
        };
        (!messages.is_empty()).then(|| self.redacted(Value::Array(messages)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialects() -> Dialects {
        Dialects {
            redactor: Redactor::new(&["ACME-\\d+".to_string()]).unwrap(),
        }
    }

    #[test]
    fn finish_reasons_are_read_from_openai_and_anthropic_answers() {
        let d = dialects();
        let openai = br#"{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"},{"index":1,"finish_reason":"length"}]}"#;
        assert_eq!(d.finish_reasons(openai), ["stop", "length"]);
        let anthropic = br#"{"type":"message","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn"}"#;
        assert_eq!(d.finish_reasons(anthropic), ["end_turn"]);
        assert!(d.finish_reasons(b"not json").is_empty());
        let spaced = br#"{"choices": [{"finish_reason" : "tool_calls", "message": {"content": "say \"finish_reason\":\"x\""}}, {"finish_reason": null}]}"#;
        assert_eq!(d.finish_reasons(spaced), ["tool_calls"]);
    }

    #[test]
    fn captured_content_is_redacted_before_it_is_exported() {
        let d = dialects();
        let req = br#"{"model":"m","system":"be brief","messages":[{"role":"user","content":"mail bob@example.com about ACME-42"}]}"#;
        let input = d.input(req).unwrap();
        assert!(
            input.contains("[EMAIL]") && input.contains("[REDACTED]"),
            "{input}"
        );
        assert!(!input.contains("bob@example.com") && !input.contains("ACME-42"));
        assert!(
            input.starts_with(r#"[{"content":"be brief","role":"system"}"#),
            "{input}"
        );
        let answer = br#"{"choices":[{"message":{"role":"assistant","content":"key sk-abcdefghijklmnopqrstuvwxyz"},"finish_reason":"stop"}]}"#;
        let output = d.output(answer).unwrap();
        assert!(
            output.contains("[SECRET]") && !output.contains("sk-abcdef"),
            "{output}"
        );
        assert!(d.input(br#"{"input":"embed me"}"#).is_none());
    }
}
