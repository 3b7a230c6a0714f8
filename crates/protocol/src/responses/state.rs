//! Conversation state as the Responses API keeps it, in wire terms: a request's input items,
//! a stored conversation spliced in front of them (for `previous_response_id`), and the
//! conversation after an answer (its output items appended).
//!
//! A conversation is a JSON array of input items, kept as text. Output items of the kinds a
//! client may send back (`message`, `function_call`, `function_call_output`, and `reasoning`
//! that carries `encrypted_content`) join it; others (built-in tool calls) stay in the
//! response object only. Splicing is text work on validated arrays: nothing is re-serialised.

use crate::openai::RawObject;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Output item kinds that are valid input items.
const CARRIED: &[&str] = &["message", "function_call", "function_call_output"];

/// The request's `input` as a JSON array of items: a string becomes one user message; a
/// missing or malformed `input` gives `[]`. An array is taken as it is: the request's parse
/// validates it (and refuses a body whose spliced `input` is not one).
pub fn input_items(raw: &RawObject<'_>) -> String {
    let Some(input) = raw.get("input") else {
        return "[]".into();
    };
    let text = input.get();
    if text.starts_with('"') {
        format!(r#"[{{"role":"user","content":{text}}}]"#)
    } else if text.starts_with('[') {
        text.to_string()
    } else {
        "[]".into()
    }
}

/// Whether a body may name a `previous_response_id` (a byte search: most bodies need no parse
/// to know they do not).
pub fn mentions_previous(body: &[u8]) -> bool {
    memchr::memmem::find(body, b"previous_response_id").is_some()
}

/// The `response` member of a stream's final event (`response.completed` /
/// `response.incomplete`), if `data` is one.
pub fn final_response(data: &str) -> Option<&str> {
    if !(data.contains("\"response.completed\"") || data.contains("\"response.incomplete\"")) {
        return None;
    }
    #[derive(Deserialize)]
    struct Final<'a> {
        #[serde(borrow)]
        response: &'a RawValue,
    }
    serde_json::from_str::<Final>(data)
        .ok()
        .map(|f| f.response.get())
}

/// Joins JSON arrays given as text into one.
pub fn concat(arrays: &[&str]) -> String {
    let mut out = String::from("[");
    for a in arrays {
        let inner = a
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim();
        if inner.is_empty() {
            continue;
        }
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(inner);
    }
    out.push(']');
    out
}

/// The body to send on: every member as received except `previous_response_id` (resolved
/// here, so no upstream needs to know it) and `input`, which becomes `prior` then the
/// request's own items.
pub fn expand(raw: &RawObject<'_>, prior: &str, input: &str) -> Vec<u8> {
    let merged = concat(&[prior, input]);
    let mut out = Vec::with_capacity(merged.len() + 256);
    out.push(b'{');
    for (key, value) in raw.iter() {
        if key == "previous_response_id" {
            continue;
        }
        if out.len() > 1 {
            out.push(b',');
        }
        crate::openai::raw::write_key(&mut out, key);
        if key == "input" {
            out.extend_from_slice(merged.as_bytes());
        } else {
            out.extend_from_slice(value.get().as_bytes());
        }
    }
    out.push(b'}');
    out
}

#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(default)]
    id: Option<String>,
    #[serde(borrow, default)]
    output: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Kind<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    encrypted_content: Option<&'a RawValue>,
}

/// A response object's id and its output items that can be sent back as input (JSON array).
pub fn answer_items(response: &[u8]) -> Option<(String, String)> {
    let a: Answer = serde_json::from_slice(response).ok()?;
    let kept: Vec<&str> = a
        .output
        .iter()
        .filter(|item| {
            serde_json::from_str::<Kind>(item.get()).is_ok_and(|k| match k.kind.as_deref() {
                Some(kind) if CARRIED.contains(&kind) => true,
                Some("reasoning") => k.encrypted_content.is_some_and(|e| e.get() != "null"),
                _ => false,
            })
        })
        .map(|item| item.get())
        .collect();
    Some((a.id?, format!("[{}]", kept.join(","))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_input_becomes_one_user_item_and_arrays_are_kept() {
        let raw = RawObject::parse(br#"{"model":"m","input":"hi"}"#).unwrap();
        assert_eq!(input_items(&raw), r#"[{"role":"user","content":"hi"}]"#);
        let raw = RawObject::parse(br#"{"input":[{"role":"user","content":"a"}]}"#).unwrap();
        assert_eq!(input_items(&raw), r#"[{"role":"user","content":"a"}]"#);
    }

    #[test]
    fn expand_drops_the_previous_id_and_prepends_the_conversation() {
        let raw = RawObject::parse(
            br#"{"model":"m","previous_response_id":"resp_1","input":"next","store":true}"#,
        )
        .unwrap();
        let body = expand(
            &raw,
            r#"[{"role":"user","content":"first"}]"#,
            &input_items(&raw),
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"model":"m","input":[{"role":"user","content":"first"},{"role":"user","content":"next"}],"store":true}"#
        );
        assert_eq!(concat(&["[]", "[1]", " [ ] ", "[2,3]"]), "[1,2,3]");
    }

    #[test]
    fn only_items_a_client_may_send_back_join_the_conversation() {
        let resp = br#"{"id":"resp_9","output":[
            {"type":"reasoning","id":"rs_1","summary":[]},
            {"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":"gAAA"},
            {"type":"web_search_call","id":"ws_1"},
            {"type":"message","role":"assistant","content":[]},
            {"type":"function_call","call_id":"c","name":"f","arguments":"{}"}]}"#;
        let (id, items) = answer_items(resp).unwrap();
        assert_eq!(id, "resp_9");
        let v: Vec<serde_json::Value> = serde_json::from_str(&items).unwrap();
        let kinds: Vec<&str> = v.iter().map(|i| i["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["reasoning", "message", "function_call"]);
        assert_eq!(v[0]["id"], "rs_2");
    }
}
