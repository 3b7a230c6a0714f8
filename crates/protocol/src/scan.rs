//! Structural scans of JSON text that decode nothing: the nesting depth of a value, and the
//! raw text of one top-level member of an object. They jump over each string's text with
//! `memchr` (to its closing quote or next backslash), so their cost is in the structure, not
//! the prose of a prompt or an answer.
//!
//! They validate nothing beyond what they need: callers either hand them text serde_json has
//! accepted, or decode what they find with serde_json afterwards.

/// Whether arrays and objects in the JSON value `json` nest deeper than `max` levels. A
/// scalar cannot nest; otherwise one walk over the structure (a bracket inside a string is
/// text, not nesting). Linear in `json`'s length, and it stops at the first level too deep.
pub(crate) fn exceeds_depth(json: &[u8], max: usize) -> bool {
    if !matches!(json.first(), Some(b'[' | b'{')) {
        return false;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = json.get(i) {
        i += 1;
        match b {
            b'"' => match string_end(json, i) {
                Some(end) => i = end,
                None => return false,
            },
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The index just past the closing quote of the string whose text starts at `from`; `None`
/// when the text ends first.
fn string_end(json: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let at = from + memchr::memchr2(b'"', b'\\', json.get(from..)?)?;
        if json.get(at) == Some(&b'"') {
            return Some(at + 1);
        }
        // A backslash: the byte after it is escaped, whatever it is.
        from = at + 2;
    }
}

/// The index just past the value that starts at `from` (after any whitespace).
fn value_end(json: &[u8], from: usize) -> Option<usize> {
    let start = from
        + json
            .get(from..)?
            .iter()
            .position(|b| !b.is_ascii_whitespace())?;
    match json.get(start)? {
        b'"' => string_end(json, start + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while let Some(&b) = json.get(i) {
                i += 1;
                match b {
                    b'"' => i = string_end(json, i)?,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i);
                        }
                    }
                    _ => {}
                }
            }
            None
        }
        _ => {
            let len = json
                .get(start..)?
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .unwrap_or(json.len() - start);
            Some(start + len)
        }
    }
}

/// The raw text of the member `key` of the JSON object `json`, found by walking only the
/// object's top level: other members' values are stepped over, never decoded, and a `key`
/// nested inside them is not it. `None` when `json` is not an object, has no such member or
/// ends early. Keys are compared as written (an escaped spelling of `key` is not found).
pub(crate) fn top_level_member<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    last_member(json, key).or_else(|| walk_to_member(json, key))
}

/// The fast case of [`top_level_member`]: `key` is the object's last member (OpenAI and
/// Anthropic put `usage` last), found from the end. The last `"key"` in the text, not
/// preceded by a backslash, followed by `:`, a value, and then only the `}` that closes the
/// document, can only be a member of the top-level object of valid JSON: a nested one would
/// be followed by more closing brackets, a string value by no `:`. Anything else is left to
/// the walk from the start.
fn last_member<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let bytes = json.as_bytes();
    let mut needle = Vec::with_capacity(key.len() + 2);
    needle.push(b'"');
    needle.extend_from_slice(key.as_bytes());
    needle.push(b'"');
    let at = memchr::memmem::rfind(bytes, &needle)?;
    if at == 0 || bytes.get(at - 1) == Some(&b'\\') {
        return None;
    }
    let after = at + needle.len();
    let colon = after
        + bytes
            .get(after..)?
            .iter()
            .position(|b| !b.is_ascii_whitespace())?;
    if bytes.get(colon) != Some(&b':') {
        return None;
    }
    let end = value_end(bytes, colon + 1)?;
    let mut rest = bytes
        .get(end..)?
        .iter()
        .filter(|b| !b.is_ascii_whitespace());
    if rest.next() != Some(&b'}') || rest.next().is_some() {
        return None;
    }
    json.get(colon + 1..end).map(str::trim_start)
}

/// The general case of [`top_level_member`]: the object's top level walked from the start.
fn walk_to_member<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let bytes = json.as_bytes();
    let open = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    if bytes.get(open) != Some(&b'{') {
        return None;
    }
    let mut i = open + 1;
    loop {
        // At a member's key, or at the end of the object.
        i += bytes
            .get(i..)?
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b','))?;
        if bytes.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(bytes, i + 1)?;
        let name = bytes.get(i + 1..key_end - 1)?;
        let colon = key_end + bytes.get(key_end..)?.iter().position(|&b| b == b':')?;
        let end = value_end(bytes, colon + 1)?;
        if name == key.as_bytes() {
            return json.get(colon + 1..end).map(str::trim_start);
        }
        i = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert!(!exceeds_depth(b"[[1]]", 2));
        assert!(exceeds_depth(b"[[[1]]]", 2));
        assert!(!exceeds_depth(
            br#"["[[[[", "\"[[[", "\\", {"a": "]]]"}]"#,
            2
        ));
        assert!(!exceeds_depth(b"\"[[[[[[\"", 0), "a string does not nest");
        assert!(!exceeds_depth(b"12", 0));
    }

    #[test]
    fn the_top_level_member_is_found_without_its_nested_namesakes() {
        let body = r#"{"id":"x","choices":[{"usage":{"a":1},"text":"\"usage\": no"}],"n":-1.5e3 , "usage" : {"prompt_tokens":3} }"#;
        assert_eq!(
            top_level_member(body, "usage"),
            Some(r#"{"prompt_tokens":3}"#)
        );
        assert_eq!(top_level_member(body, "n"), Some("-1.5e3"));
        assert_eq!(top_level_member(body, "id"), Some(r#""x""#));
        assert_eq!(top_level_member(body, "missing"), None);
        assert_eq!(top_level_member(r#"{"usage":null}"#, "usage"), Some("null"));
        assert_eq!(top_level_member("[1]", "usage"), None);
        assert_eq!(top_level_member("not json", "usage"), None);
        assert_eq!(top_level_member(r#"{"a":[1,{"#, "usage"), None);
        assert_eq!(top_level_member("", "usage"), None);
        // From the end: only the top-level last member qualifies; anything else is walked.
        assert_eq!(
            last_member(r#"{"a":1,"usage":{"b":2}}"#, "usage"),
            Some(r#"{"b":2}"#)
        );
        assert_eq!(last_member(r#"{"a":{"usage":{"b":2}}}"#, "usage"), None);
        assert_eq!(last_member(r#"{"a":[{"usage":3}]}"#, "usage"), None);
        assert_eq!(last_member(r#"{"a":"usage"}"#, "usage"), None);
        assert_eq!(last_member(r#"{"x\"usage":{"b":2}}"#, "usage"), None);
        assert_eq!(
            top_level_member(r#"{"a":{"usage":{"b":2}}}"#, "usage"),
            None
        );
        assert_eq!(
            top_level_member(r#"{"usage":{"b":2},"a":{"usage":{"c":3}}}"#, "usage"),
            Some(r#"{"b":2}"#)
        );
    }

    #[test]
    fn the_responses_corpus_reads_the_same_usage_as_a_full_decode() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/responses");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let body = std::fs::read(entry.unwrap().path()).unwrap();
            let Ok(text) = std::str::from_utf8(&body) else {
                continue;
            };
            let found = top_level_member(text, "usage");
            // Where serde_json reads the body as an object, the member found is its `usage`.
            if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) {
                let want = map.get("usage").map(|v| v.to_string());
                let got = found.and_then(|raw| serde_json::from_str::<serde_json::Value>(raw).ok());
                assert_eq!(got.map(|v| v.to_string()), want, "{text}");
            }
            seen += 1;
        }
        assert!(seen > 0);
    }
}
