//! The JSON text of a record's list columns (`tags`, `attempts`), written directly: the same
//! text serde_json writes for them (and reads back), without its generic serializer, which
//! cost more than the SQLite insert itself per record in a debug build.

use crate::Attempt;
use std::fmt::Write;

/// `[["key","value"],…]`, as serde writes a `Vec<(String, String)>`.
pub(crate) fn tags(list: &[(String, String)]) -> String {
    let mut out = String::with_capacity(2 + list.len() * 24);
    out.push('[');
    for (i, (k, v)) in list.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        string(&mut out, k);
        out.push(',');
        string(&mut out, v);
        out.push(']');
    }
    out.push(']');
    out
}

/// `[{"provider":…,"model":…,"outcome":…,"status":…,"latency_ms":…[,"error":…]},…]`, as
/// serde writes a `Vec<Attempt>` (fields in declaration order, `error` left out when absent).
pub(crate) fn attempts(list: &[Attempt]) -> String {
    let mut out = String::with_capacity(2 + list.len() * 96);
    out.push('[');
    for (i, a) in list.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"provider\":");
        string(&mut out, &a.provider);
        out.push_str(",\"model\":");
        string(&mut out, &a.model);
        out.push_str(",\"outcome\":\"");
        out.push_str(a.outcome.as_str());
        out.push_str("\",\"status\":");
        match a.status {
            Some(s) => {
                let _ = write!(out, "{s}");
            }
            None => out.push_str("null"),
        }
        let _ = write!(out, ",\"latency_ms\":{}", a.latency_ms);
        if let Some(e) = &a.error {
            out.push_str(",\"error\":");
            string(&mut out, e);
        }
        out.push('}');
    }
    out.push(']');
    out
}

/// Appends `s` as a JSON string literal.
fn string(out: &mut String, s: &str) {
    out.push('"');
    let plain = |c: char| c != '"' && c != '\\' && c >= ' ';
    if s.chars().all(plain) {
        out.push_str(s);
    } else {
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if c < ' ' => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AttemptOutcome;

    fn attempt(error: Option<&str>, status: Option<u16>) -> Attempt {
        Attempt {
            provider: "open\"ai\\".into(),
            model: "gpt-4o\n\u{1}\u{8}\u{c}é".into(),
            outcome: AttemptOutcome::RateLimited,
            status,
            latency_ms: 1234,
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn the_columns_are_the_text_serde_writes_and_reads_back() {
        let list = vec![
            attempt(None, Some(429)),
            attempt(Some("slow \"down\"\t"), None),
        ];
        let text = attempts(&list);
        assert_eq!(text, serde_json::to_string(&list).unwrap());
        assert_eq!(serde_json::from_str::<Vec<Attempt>>(&text).unwrap(), list);
        assert_eq!(attempts(&[]), "[]");
        assert_eq!(tags(&[]), "[]");
        let list = vec![
            ("team".to_string(), "a\"b".to_string()),
            ("k\u{7f}".to_string(), "ü\u{0}".to_string()),
        ];
        assert_eq!(tags(&list), serde_json::to_string(&list).unwrap());
    }
}
