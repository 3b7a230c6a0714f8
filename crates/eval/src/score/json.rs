//! JSON scorers: the output parses as JSON, or parses and fits a schema; plus the
//! structural equality the tool-call scorer and the schema's `enum`/`const` share.

use super::Score;
use super::schema;
use super::text::clip;
use serde_json::Value;

/// Finds the JSON document in an answer.
///
/// Tries, in order: the trimmed text; the body of a Markdown code fence (```` ```json ````
/// or a bare ```` ``` ````); and, when `search` is set, the first `{…}` or `[…]` span
/// that parses (for answers that wrap JSON in prose).
pub fn extract_json(text: &str, search: bool) -> Option<Value> {
    let trimmed = text.trim();
    if let Ok(v) = serde_json::from_str(trimmed) {
        return Some(v);
    }
    if let Some(body) = fenced(trimmed) {
        if let Ok(v) = serde_json::from_str(body.trim()) {
            return Some(v);
        }
    }
    if search { search_span(trimmed) } else { None }
}

/// The body of the first code fence, without its language tag.
fn fenced(text: &str) -> Option<&str> {
    let start = text.find("```")?;
    let after = &text[start + 3..];
    let body_start = after.find('\n')? + 1;
    let body = &after[body_start..];
    let end = body.find("```")?;
    Some(&body[..end])
}

fn search_span(text: &str) -> Option<Value> {
    for (start, c) in text.char_indices() {
        if c != '{' && c != '[' {
            continue;
        }
        let rest = &text[start..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        if let Some(Ok(v)) = stream.next() {
            return Some(v);
        }
    }
    None
}

/// The output is (or, with fences or `search`, contains) a JSON document.
pub fn json_valid(output: &str, search: bool) -> Score {
    match extract_json(output, search) {
        Some(_) => Score::pass("output is valid JSON"),
        None => Score::fail(format!("output is not valid JSON: {:?}", clip(output))),
    }
}

/// The output's JSON document fits `schema`; the detail names the first failing pointer.
pub fn json_schema(output: &str, schema: &Value, search: bool) -> Score {
    let Some(doc) = extract_json(output, search) else {
        return Score::fail(format!("output is not valid JSON: {:?}", clip(output)));
    };
    match schema::validate(schema, &doc) {
        Ok(()) => Score::pass("output matches the schema"),
        Err(e) => Score::fail(format!("schema violation {e}")),
    }
}

/// Structural equality: object key order is irrelevant and numbers compare by value
/// (`1` equals `1.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
