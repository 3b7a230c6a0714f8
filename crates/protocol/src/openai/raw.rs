//! A JSON object kept as its raw members, in order, borrowed from the request body.

use crate::FieldError;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// The top-level members of a JSON object, each value left unparsed.
///
/// Parsing this costs one scan of the body and no allocation per value; values are decoded
/// only when (and where) Switchyard needs them, and everything else is re-emitted byte for byte.
#[derive(Debug)]
pub struct RawObject<'a> {
    members: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> RawObject<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, FieldError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| FieldError::body("The request body is not valid UTF-8."))?;
        let mut de = serde_json::Deserializer::from_str(text);
        let members = de.deserialize_map(MembersVisitor).map_err(|e| {
            FieldError::body(format!("The request body is not a valid JSON object: {e}."))
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

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let value: &'de RawValue = map.next_value()?;
            if out.iter().any(|(k, _): &(Cow<str>, &RawValue)| *k == key) {
                return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
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

    #[test]
    fn escaped_keys_are_decoded() {
        let o = RawObject::parse(br#"{"mo\u0064el": "x"}"#).unwrap();
        assert!(o.get("model").is_some());
    }
}
