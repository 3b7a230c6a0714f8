//! Reading and comparing answers: the text and tool calls of an answer in either dialect,
//! and the shadow comparison (the route's scorers, or token F1 against the primary).

use serde_json::{Value, json};
use switchyard_eval::{Expected, Output, Scorer, ToolCall};
use switchyard_gateway::observe;

/// The text and tool calls of what the gateway observed.
pub(crate) fn output_of(observed: observe::Output) -> Output {
    match observed {
        observe::Output::OpenAi(bytes) => openai_output(&bytes),
        observe::Output::Anthropic(bytes) => anthropic_output(&bytes),
        observe::Output::Streamed(output) => output,
    }
}

/// The text and tool calls of an answer in OpenAI's shape.
pub(crate) fn openai_output(body: &[u8]) -> Output {
    serde_json::from_slice::<Value>(body)
        .map(|v| Output::from_openai_response(&v))
        .unwrap_or_default()
}

/// The text and tool calls of an Anthropic Messages answer.
pub(crate) fn anthropic_output(body: &[u8]) -> Output {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Output::default();
    };
    let mut out = Output::default();
    for block in v["content"].as_array().into_iter().flatten() {
        match block["type"].as_str() {
            Some("text") => out
                .text
                .push_str(block["text"].as_str().unwrap_or_default()),
            Some("tool_use") => out.tool_calls.push(ToolCall::new(
                block["name"].as_str().unwrap_or_default(),
                block["input"].clone(),
            )),
            _ => {}
        }
    }
    out
}

/// Scores the candidate and the primary with the route's scorers, the primary's answer
/// serving as the expected one; without scorers, token-overlap F1 against the primary. The
/// primary scores itself 1 on reference scorers, so the delta says how far the candidate is
/// from what production answered.
pub(crate) fn score_pair(
    scorers: &[Scorer],
    candidate: &Output,
    primary: &Output,
) -> (f64, f64, String) {
    if scorers.is_empty() {
        let f1 = token_f1(&candidate.text, &primary.text);
        return (f1, 1.0, format!("token F1 vs primary {f1:.3}"));
    }
    let expected = |s: &Scorer| {
        if s.spec().kind() == "tool-call" {
            Expected(json!({ "tool_calls": primary.tool_calls }))
        } else {
            Expected(Value::String(primary.text.clone()))
        }
    };
    let mut c_sum = 0.0;
    let mut p_sum = 0.0;
    let mut n = 0.0;
    let mut details = Vec::new();
    for s in scorers {
        let e = expected(s);
        let (Ok(c), Ok(p)) = (s.score(candidate, Some(&e)), s.score(primary, Some(&e))) else {
            continue;
        };
        c_sum += c.value;
        p_sum += p.value;
        n += 1.0;
        details.push(format!(
            "{}: {:.3} vs {:.3}",
            s.spec().kind(),
            c.value,
            p.value
        ));
    }
    if n == 0.0 {
        let f1 = token_f1(&candidate.text, &primary.text);
        return (f1, 1.0, format!("token F1 vs primary {f1:.3}"));
    }
    (c_sum / n, p_sum / n, details.join("; "))
}

/// Harmonic mean of token precision and recall (lower-cased words): a reference-free-model
/// agreement measure for free text.
pub(crate) fn token_f1(candidate: &str, reference: &str) -> f64 {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let c = words(candidate);
    let r = words(reference);
    if c.is_empty() && r.is_empty() {
        return 1.0;
    }
    if c.is_empty() || r.is_empty() {
        return 0.0;
    }
    let mut counts = std::collections::HashMap::<&str, i64>::new();
    for w in &r {
        *counts.entry(w).or_default() += 1;
    }
    let mut overlap = 0;
    for w in &c {
        if let Some(n) = counts.get_mut(w.as_str())
            && *n > 0
        {
            *n -= 1;
            overlap += 1;
        }
    }
    if overlap == 0 {
        return 0.0;
    }
    let p = f64::from(overlap) / c.len() as f64;
    let rc = f64::from(overlap) / r.len() as f64;
    2.0 * p * rc / (p + rc)
}
