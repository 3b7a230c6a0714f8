//! A JSON object kept as its raw members, in order, borrowed from the request body, and the
//! limits every client body is held to before any field is read: at most [`MAX_MEMBERS`]
//! top-level members, each named once, and at most [`MAX_DEPTH`] levels of nesting. All three
//! are checked in the member scan: each member's value is depth-checked as soon as serde_json
//! has found its end, while it is still in cache, and only when it is an array or an object;
//! inside strings the check jumps from quote to backslash with `memchr`. A body under the size
//! limit costs a scan and a bracket walk, linear in its length, however it nests.

use crate::FieldError;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// The most top-level members a request body may have. The largest specification defines
/// about 40; the rest is headroom for provider-specific parameters.
pub const MAX_MEMBERS: usize = 256;

/// The deepest nesting of arrays and objects a body may have, the top-level object counted
/// as level 1. serde_json's own recursion limit is 128, but raw values are skipped without
/// it, so without this check a deeply nested unknown member would travel upstream.
pub const MAX_DEPTH: usize = 64;

/// The top-level members of a JSON object, each value left unparsed.
///
/// Parsing this costs one scan of the body and no allocation per value; values are decoded
/// only when (and where) Switchyard needs them, and everything else is re-emitted byte for byte.
#[derive(Debug)]
pub struct RawObject<'a> {
    members: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> RawObject<'a> {
    /// Reads a request body, refusing more than [`MAX_MEMBERS`] members, a repeated member
    /// and nesting deeper than [`MAX_DEPTH`], each with the limit in the message.
    pub fn parse(body: &'a [u8]) -> Result<Self, FieldError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| FieldError::body("The request body is not valid UTF-8."))?;
        let mut refusal = None;
        let mut de = serde_json::Deserializer::from_str(text);
        let members = de
            .deserialize_map(MembersVisitor {
                refusal: &mut refusal,
            })
            .map_err(|e| {
                refusal.take().unwrap_or_else(|| {
                    FieldError::body(format!("The request body is not a valid JSON object: {e}."))
                })
            })?;
        de.end().map_err(|e| {
            FieldError::body(format!("Unexpected data after the JSON object: {e}."))
        })?;
        Ok(RawObject { members })
    }

    /// The raw value of `key`, if present and not `null`.
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .filter(|v| v.get() != "null")
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &'a RawValue)> {
        self.members.iter().map(|(k, v)| (k.as_ref(), *v))
    }

    /// Re-emits the object for a same-dialect upstream: every member byte for byte, in order,
    /// except `model`, which is set to `Some(name)` or left out for `None` (Azure names the
    /// deployment in the URL instead). No member is re-serialised, so unknown fields, key order
    /// and number formatting survive.
    pub fn with_model(&self, model: Option<&str>) -> Vec<u8> {
        let len: usize = self
            .members
            .iter()
            .map(|(k, v)| k.len() + v.get().len() + 4)
            .sum();
        let mut out = Vec::with_capacity(len + model.map_or(0, str::len) + 2);
        out.push(b'{');
        for (k, v) in &self.members {
            if k == "model" && model.is_none() {
                continue;
            }
            if out.len() > 1 {
                out.push(b',');
            }
            write_key(&mut out, k);
            match model.filter(|_| k == "model") {
                Some(m) => write_json_string(&mut out, m),
                None => out.extend_from_slice(v.get().as_bytes()),
            }
        }
        out.push(b'}');
        out
    }

    /// Decodes the member `key` as `T`, naming the field on failure.
    pub fn decode<T: serde::Deserialize<'a>>(&self, key: &str) -> Result<Option<T>, FieldError> {
        match self.get(key) {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw.get())
                .map(Some)
                .map_err(|e| FieldError::from_serde(key, &e)),
        }
    }
}

/// Collects the members; a refusal (too many, repeated) is left in `refusal` with its own
/// message, since a serde error cannot carry the field it is about.
struct MembersVisitor<'r> {
    refusal: &'r mut Option<FieldError>,
}

impl<'de> Visitor<'de> for MembersVisitor<'_> {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8).min(MAX_MEMBERS));
        // Hashing keeps the duplicate check linear: comparing each key with every earlier
        // one made a body of many keys cost quadratic CPU.
        let mut seen: HashSet<Cow<'de, str>> = HashSet::with_capacity(out.capacity());
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if out.len() == MAX_MEMBERS {
                *self.refusal = Some(FieldError::body(format!(
                    "The request body has more than {MAX_MEMBERS} top-level members, the limit; remove the ones the API does not define."
                )));
                return Err(serde::de::Error::custom("too many members"));
            }
            let value: &'de RawValue = map.next_value()?;
            // The top-level object is level 1, so a member's value may nest one level less.
            if crate::scan::exceeds_depth(value.get().as_bytes(), MAX_DEPTH - 1) {
                *self.refusal = Some(FieldError::body(format!(
                    "The request body nests arrays and objects deeper than {MAX_DEPTH} levels, the limit; flatten it."
                )));
                return Err(serde::de::Error::custom("nested too deep"));
            }
            if !seen.insert(key.clone()) {
                let name = crate::bounded(&key);
                *self.refusal = Some(FieldError::new(
                    name.as_ref(),
                    format!(
                        "`{name}` appears more than once in the request body; send each member once."
                    ),
                ));
                return Err(serde::de::Error::custom("duplicate member"));
            }
            out.push((key, value));
        }
        Ok(out)
    }
}

/// Appends `"key":` with `key` escaped as a JSON string.
pub(crate) fn write_key(out: &mut Vec<u8>, key: &str) {
    write_json_string(out, key);
    out.push(b':');
}

/// Appends `s` as a JSON string literal.
pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str) {
    // serde_json's escaping is correct and fast; writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_members_in_order_and_raw() {
        let body = br#"{"b": [1, 2], "a": {"x": null}, "c": null}"#;
        let o = RawObject::parse(body).unwrap();
        let keys: Vec<_> = o.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(o.get("b").unwrap().get(), "[1, 2]");
        assert!(o.get("c").is_none(), "null counts as absent");
    }

    #[test]
    fn rejects_non_objects_duplicates_and_trailing_data() {
        assert!(RawObject::parse(b"[1]").is_err());
        assert!(RawObject::parse(br#"{"a":1,"a":2}"#).is_err());
        assert!(RawObject::parse(br#"{"a":1} x"#).is_err());
        assert!(RawObject::parse(b"{\"a\":").is_err());
        assert!(RawObject::parse(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn with_model_rewrites_only_the_model() {
        let body = br#"{"z" : 1.50,"model":"route","x":{"b":[ 1 ],"a":null},"thinking":{"type":"enabled"}}"#;
        let o = RawObject::parse(body).unwrap();
        assert_eq!(
            o.with_model(Some("claude-\"4\"")),
            br#"{"z":1.50,"model":"claude-\"4\"","x":{"b":[ 1 ],"a":null},"thinking":{"type":"enabled"}}"#.to_vec()
        );
        assert_eq!(
            o.with_model(None),
            br#"{"z":1.50,"x":{"b":[ 1 ],"a":null},"thinking":{"type":"enabled"}}"#.to_vec()
        );
    }

    /// `{"k0":0,"k1":1,…}` with `n` members.
    fn many_keys(n: usize) -> String {
        let mut s = String::from("{");
        for i in 0..n {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&format!("\"k{i}\":{i}"));
        }
        s.push('}');
        s
    }

    #[test]
    fn a_body_of_300k_keys_is_refused_in_well_under_a_second() {
        let body = many_keys(300_000);
        assert!(body.len() > 3_000_000, "{}", body.len());
        let started = std::time::Instant::now();
        let err = RawObject::parse(body.as_bytes()).unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.param, None);
        assert!(
            err.message.contains("more than 256 top-level members"),
            "{}",
            err.message
        );
        assert!(took < std::time::Duration::from_secs(1), "took {took:?}");
    }

    #[test]
    fn the_member_limit_is_inclusive_and_duplicates_are_named() {
        assert_eq!(
            RawObject::parse(many_keys(MAX_MEMBERS).as_bytes())
                .unwrap()
                .iter()
                .count(),
            MAX_MEMBERS
        );
        assert!(RawObject::parse(many_keys(MAX_MEMBERS + 1).as_bytes()).is_err());
        let err = RawObject::parse(br#"{"model":"a","x":1,"model":"b"}"#).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("model"));
        assert!(err.message.contains("more than once"), "{}", err.message);
        // The last of many members repeating the first is found as well.
        let mut body = many_keys(200);
        body.insert_str(body.len() - 1, r#","k0":1"#);
        assert_eq!(
            RawObject::parse(body.as_bytes())
                .unwrap_err()
                .param
                .as_deref(),
            Some("k0")
        );
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused_even_inside_unknown_members() {
        let nested = |depth: usize| {
            format!(
                "{{\"x\":{}{}}}",
                "[".repeat(depth - 1),
                "]".repeat(depth - 1)
            )
        };
        assert!(RawObject::parse(nested(MAX_DEPTH).as_bytes()).is_ok());
        let err = RawObject::parse(nested(MAX_DEPTH + 1).as_bytes()).unwrap_err();
        assert!(
            err.message.contains("deeper than 64 levels"),
            "{}",
            err.message
        );
        let deep = nested(1_000_000);
        let started = std::time::Instant::now();
        assert!(RawObject::parse(deep.as_bytes()).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // Brackets inside strings are text, not nesting, escaped quotes and backslashes too.
        let text = format!(
            r#"{{"x":"{}\"{}","y":["\\",["{}"]]}}"#,
            "[".repeat(100),
            "{".repeat(100),
            "]".repeat(70)
        );
        assert!(RawObject::parse(text.as_bytes()).is_ok(), "{text}");
        // A member after a shallow one is checked as well.
        let late = format!(
            r#"{{"a":[1],"b":{}{}}}"#,
            "{\"c\":".repeat(64),
            "1".to_string() + &"}".repeat(64)
        );
        let err = RawObject::parse(late.as_bytes()).unwrap_err();
        assert!(
            err.message.contains("deeper than 64 levels"),
            "{}",
            err.message
        );
        let ok = format!(
            r#"{{"a":[1],"b":{}{}}}"#,
            "{\"c\":".repeat(63),
            "1".to_string() + &"}".repeat(63)
        );
        assert!(RawObject::parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn escaped_keys_are_decoded() {
        let o = RawObject::parse(br#"{"mo\u0064el": "x"}"#).unwrap();
        assert!(o.get("model").is_some());
    }

    /// The separate pre-pass the depth check replaced: every byte of the body, strings skipped.
    fn depth_pass(json: &[u8], max: usize) -> bool {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for &b in json {
            if in_string {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
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

    #[test]
    fn the_fuzz_corpus_gets_the_depth_verdicts_of_the_separate_pass() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        let mut seen = 0;
        for target in ["raw_object", "openai_request", "anthropic_request"] {
            for entry in std::fs::read_dir(dir.join(target)).unwrap() {
                let body = std::fs::read(entry.unwrap().path()).unwrap();
                let deep = depth_pass(&body, MAX_DEPTH);
                match RawObject::parse(&body) {
                    Ok(_) => assert!(!deep, "a body nested too deep was accepted"),
                    Err(e) if e.message.contains("deeper than") => {
                        assert!(deep, "refused for depth, but not too deep")
                    }
                    Err(_) => {}
                }
                seen += 1;
            }
        }
        assert!(seen > 30, "the corpus is there ({seen} inputs)");
        // And bodies made to be deep at every place a value can be.
        for body in [
            format!(
                "{{\"a\":\"x\",\"b\":{}1{}}}",
                "[".repeat(63),
                "]".repeat(63)
            ),
            format!(
                "{{\"a\":\"x\",\"b\":{}1{}}}",
                "[".repeat(64),
                "]".repeat(64)
            ),
            format!(
                "{{\"a\":{}\"\\\\\"{}}}",
                "{\"k\":".repeat(63),
                "}".repeat(63)
            ),
            format!(
                "{{\"a\":{}\"\\\\\"{}}}",
                "{\"k\":".repeat(64),
                "}".repeat(64)
            ),
        ] {
            let deep = depth_pass(body.as_bytes(), MAX_DEPTH);
            assert_eq!(RawObject::parse(body.as_bytes()).is_err(), deep, "{body}");
        }
    }
}
