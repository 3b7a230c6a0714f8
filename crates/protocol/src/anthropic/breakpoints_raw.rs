//! Breakpoints in an Anthropic client's raw body (the passthrough), without a
//! `serde_json::Value` round trip: the top-level members, the tool, system-block and message
//! arrays are read as borrowed raw slices (one scan each, no per-value allocation), the plan
//! of `breakpoints::plan` is made from their byte lengths, and the markers are spliced in as
//! text. The cost over the plain passthrough is that scan and one more copy of the body;
//! every other byte, key order and number format survive.
//!
//! A breakpoint on a string `system` or string message `content` turns it into one text
//! block carrying the marker (the string's JSON text copied verbatim).

use super::breakpoints::{CacheTtl, Outline, Spot, TurnSize, estimate_tokens, plan};
use crate::openai::RawObject;
use serde::Deserialize;
use serde_json::value::RawValue;

/// One splice: the bytes `start..end` of the body are replaced by `text`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

#[derive(Deserialize)]
struct WireMessage<'a> {
    #[serde(borrow, default)]
    role: Option<&'a str>,
    #[serde(borrow)]
    content: &'a RawValue,
}

#[derive(Deserialize)]
struct WireBlock<'a> {
    #[serde(borrow, rename = "type", default)]
    kind: Option<&'a str>,
}

/// The body with the planned breakpoints added, or `None` when none is placed (the client
/// placed its own, the body is not an object, or no prefix reaches `min_tokens`).
pub fn place_raw(body: &[u8], ttl: CacheTtl, min_tokens: u64) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    // Any client marker (or the word in a prompt): leave the request as the client wrote it.
    if text.contains("\"cache_control\"") {
        return None;
    }
    let raw = RawObject::parse(body).ok()?;
    let tools = raw.get("tools").map(elements).unwrap_or_default();
    let system = raw.get("system");
    let messages: Vec<(&RawValue, WireMessage<'_>)> = raw
        .get("messages")
        .map(elements)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| Some((m, serde_json::from_str(m.get()).ok()?)))
        .collect();
    let outline = Outline {
        tools: estimate_tokens(tools.iter().map(|t| t.get().len()).sum()),
        system: system.map_or(0, |s| estimate_tokens(s.get().len())),
        turns: messages
            .iter()
            .map(|(m, w)| TurnSize {
                assistant: w.role == Some("assistant"),
                tokens: estimate_tokens(m.get().len()),
                markable: true,
            })
            .collect(),
    };
    let mut edits = Vec::new();
    for spot in plan(&outline, min_tokens) {
        let edit = match spot {
            Spot::Tools => tools.last().and_then(|t| mark_object(text, t, ttl)),
            Spot::System => system.and_then(|s| mark_content(text, s, ttl)),
            Spot::Turn(i) => messages
                .get(i)
                .and_then(|(_, w)| mark_content(text, w.content, ttl)),
        };
        edits.extend(edit);
    }
    (!edits.is_empty()).then(|| splice(text, edits))
}

/// The elements of a raw JSON array (empty if it is not one).
fn elements(array: &RawValue) -> Vec<&RawValue> {
    serde_json::from_str(array.get()).unwrap_or_default()
}

/// Where `part` (a slice of `body`) starts in `body`.
fn offset(body: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(body.as_ptr() as usize)
}

/// Adds the marker as the last member of a raw object.
fn mark_object(body: &str, object: &RawValue, ttl: CacheTtl) -> Option<Edit> {
    let s = object.get();
    let close = s.rfind('}')?;
    let open = s.find('{')?;
    let empty = s[open + 1..close].trim().is_empty();
    let at = offset(body, s) + close;
    let comma = if empty { "" } else { "," };
    Some(Edit {
        start: at,
        end: at,
        text: format!("{comma}\"cache_control\":{}", ttl.json()),
    })
}

/// Marks message or system content: the last markable block of an array, or a string made
/// into one marked text block.
fn mark_content(body: &str, content: &RawValue, ttl: CacheTtl) -> Option<Edit> {
    let s = content.get();
    if s.starts_with('"') {
        let start = offset(body, s);
        return Some(Edit {
            start,
            end: start + s.len(),
            text: format!(
                "[{{\"type\":\"text\",\"text\":{s},\"cache_control\":{}}}]",
                ttl.json()
            ),
        });
    }
    let blocks = elements(content);
    let block = blocks.iter().rev().find(|b| {
        let kind = serde_json::from_str::<WireBlock<'_>>(b.get())
            .ok()
            .and_then(|w| w.kind);
        !matches!(kind, Some("thinking" | "redacted_thinking"))
    })?;
    mark_object(body, block, ttl)
}

/// The body with every edit applied (edits never overlap: each is inside its own member).
fn splice(body: &str, mut edits: Vec<Edit>) -> Vec<u8> {
    edits.sort_by_key(|e| e.start);
    let extra: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = Vec::with_capacity(body.len() + extra);
    let mut at = 0;
    for e in edits {
        out.extend_from_slice(&body.as_bytes()[at..e.start]);
        out.extend_from_slice(e.text.as_bytes());
        at = e.end;
    }
    out.extend_from_slice(&body.as_bytes()[at..]);
    out
}
