//! Checking a batch's input file: one JSON object per line, `{custom_id, method, url, body}`.
//!
//! A bad line never fails the batch: it becomes a `failed` line whose error-file entry names
//! its line number and what to fix, and every good line runs. The body is kept byte for byte
//! (`RawValue`), so what the pipeline receives is what the client wrote.

use crate::error::BatchError;
use crate::object::error_line;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashSet;
use switchyard_ledger::batch::{LineState, NewLine};

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    custom_id: Option<&'a RawValue>,
    method: Option<String>,
    url: Option<String>,
    #[serde(borrow)]
    body: Option<&'a RawValue>,
}

/// The few body fields checked here; the pipeline validates the rest when the line runs.
#[derive(Deserialize)]
struct Body {
    model: Option<serde_json::Value>,
    stream: Option<serde_json::Value>,
}

/// Every non-blank line of `content`, checked, numbered from 1 as an editor shows them.
pub(crate) fn parse(
    content: &[u8],
    endpoint: &str,
    max_lines: usize,
) -> Result<Vec<NewLine>, BatchError> {
    let text = std::str::from_utf8(content).map_err(|e| {
        BatchError::invalid(
            "input_file_id",
            format!(
                "The input file is not UTF-8 text (at byte {}); upload JSONL.",
                e.valid_up_to()
            ),
        )
    })?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        if out.len() == max_lines {
            return Err(BatchError::invalid(
                "input_file_id",
                format!(
                    "The input file has more than {max_lines} requests, the most one batch may hold ([batch] max_lines). Split it into several batches."
                ),
            ));
        }
        out.push(numbered(i as u64 + 1, check(raw, endpoint, &mut seen)));
    }
    if out.is_empty() {
        return Err(BatchError::invalid(
            "input_file_id",
            "The input file holds no requests; each line must be {\"custom_id\", \"method\", \"url\", \"body\"}.",
        ));
    }
    Ok(out)
}

/// The stored line for line number `n`: pending with its body, or failed with its error.
fn numbered(n: u64, checked: Result<(String, String), Bad>) -> NewLine {
    match checked {
        Ok((custom_id, body)) => NewLine {
            line: n,
            custom_id: Some(custom_id),
            state: LineState::Pending,
            body: Some(body),
            result: None,
        },
        Err(bad) => NewLine {
            line: n,
            result: Some(error_line(
                n,
                bad.custom_id.as_deref(),
                bad.code,
                &bad.message,
            )),
            custom_id: bad.custom_id,
            state: LineState::Failed,
            body: None,
        },
    }
}

/// Why one line cannot run.
struct Bad {
    custom_id: Option<String>,
    code: &'static str,
    message: String,
}

fn bad(custom_id: Option<&str>, code: &'static str, message: String) -> Bad {
    Bad {
        custom_id: custom_id.map(str::to_string),
        code,
        message,
    }
}

/// The line's `custom_id`: a non-empty string.
fn custom_id(raw: Option<&RawValue>) -> Result<String, Bad> {
    match raw.map(|v| serde_json::from_str::<String>(v.get())) {
        Some(Ok(id)) if !id.is_empty() => Ok(id),
        Some(Ok(_)) | None => Err(bad(
            None,
            "missing_custom_id",
            "The line has no custom_id; give each request a unique string custom_id.".into(),
        )),
        Some(Err(_)) => Err(bad(
            None,
            "missing_custom_id",
            "custom_id must be a string.".into(),
        )),
    }
}

/// The line's custom_id and body, or why it cannot run.
fn check(raw: &str, endpoint: &str, seen: &mut HashSet<String>) -> Result<(String, String), Bad> {
    let line: Line<'_> = serde_json::from_str(raw).map_err(|e| {
        bad(
            None,
            "invalid_json",
            format!("The line is not a JSON object: {e}."),
        )
    })?;
    let custom_id = custom_id(line.custom_id)?;
    let id = Some(custom_id.as_str());
    if seen.contains(&custom_id) {
        return Err(bad(
            id,
            "duplicate_custom_id",
            format!(
                "custom_id {custom_id:?} is used by an earlier line; each must be unique within the batch."
            ),
        ));
    }
    seen.insert(custom_id.clone());
    if line.method.as_deref() != Some("POST") {
        return Err(bad(id, "invalid_method", "method must be \"POST\".".into()));
    }
    if line.url.as_deref() != Some(endpoint) {
        let url = line.url.as_deref().unwrap_or("(none)");
        return Err(bad(
            id,
            "invalid_url",
            format!(
                "url {url:?} is not this batch's endpoint {endpoint:?}; a batch sends every line to one endpoint."
            ),
        ));
    }
    let body = checked_body(line.body, id)?;
    Ok((custom_id, body))
}

/// The line's body, if it is an object naming a route and not asking to stream.
fn checked_body(body: Option<&RawValue>, id: Option<&str>) -> Result<String, Bad> {
    let Some(body) = body else {
        return Err(bad(
            id,
            "invalid_request",
            "The line has no body: give the request as body.".into(),
        ));
    };
    let parsed: Body = serde_json::from_str(body.get()).map_err(|_| {
        bad(
            id,
            "invalid_request",
            "body must be a JSON object (the request as it would be POSTed).".into(),
        )
    })?;
    if !matches!(parsed.model, Some(serde_json::Value::String(ref m)) if !m.is_empty()) {
        return Err(bad(
            id,
            "invalid_request",
            "body.model must name a route of this gateway (GET /v1/models lists them).".into(),
        ));
    }
    if matches!(parsed.stream, Some(serde_json::Value::Bool(true))) {
        return Err(bad(id, "invalid_request", "body.stream must not be true: batch answers are written to the output file, not streamed.".into()));
    }
    Ok(body.get().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EP: &str = "/v1/chat/completions";

    fn line(id: &str) -> String {
        format!(
            r#"{{"custom_id":"{id}","method":"POST","url":"{EP}","body":{{"model":"m","messages":[]}}}}"#
        )
    }

    fn codes(lines: &[NewLine]) -> Vec<(u64, Option<String>)> {
        lines
            .iter()
            .map(|l| {
                let code = l.result.as_deref().map(|r| {
                    let v: serde_json::Value = serde_json::from_str(r).unwrap_or_default();
                    v["error"]["code"].as_str().unwrap_or("").to_string()
                });
                (l.line, code)
            })
            .collect()
    }

    #[test]
    fn each_bad_line_is_reported_by_its_line_number_and_good_lines_stay_pending() {
        let text = [
            line("a"),
            "{not json".into(),
            r#"{"method":"POST","url":"/v1/chat/completions","body":{"model":"m"}}"#.into(),
            line("a"),
            String::new(),
            line("b").replace(EP, "/v1/embeddings"),
            line("c").replace(r#""model":"m","#, ""),
            line("d").replace(r#""messages""#, r#""stream":true,"messages""#),
            line("e"),
        ]
        .join("\n");
        let lines = parse(text.as_bytes(), EP, 100).unwrap_or_default();
        let s = |c: &str| Some(c.to_string());
        assert_eq!(
            codes(&lines),
            [
                (1, None),
                (2, s("invalid_json")),
                (3, s("missing_custom_id")),
                (4, s("duplicate_custom_id")),
                (6, s("invalid_url")),
                (7, s("invalid_request")),
                (8, s("invalid_request")),
                (9, None),
            ]
        );
        assert_eq!(
            lines[0].body.as_deref(),
            Some(r#"{"model":"m","messages":[]}"#)
        );
    }

    #[test]
    fn more_lines_than_the_limit_refuse_the_batch_naming_the_setting() {
        let text = [line("a"), line("b"), line("c")].join("\n");
        let err = parse(text.as_bytes(), EP, 2).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("max_lines")));
    }

    #[test]
    fn an_empty_file_is_refused() {
        assert!(parse(b"\n\n", EP, 10).is_err());
    }
}
