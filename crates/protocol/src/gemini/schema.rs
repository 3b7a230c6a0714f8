//! JSON Schema → the schema subset Gemini accepts in `functionDeclarations[].parameters` and
//! `generationConfig.responseSchema` (an OpenAPI 3.0 subset).
//!
//! Gemini answers 400 to keywords outside that subset that OpenAI clients commonly send:
//! `additionalProperties` (OpenAI strict mode requires it), `$schema`, `$id` and `$comment`.
//! They are removed wherever they appear as schema keywords; a *property* of that name (a key
//! under `properties`) is kept. Dropping `additionalProperties: false` loosens the schema, so
//! Gemini may add members a strict OpenAI schema would forbid.

use serde_json::Value;
use serde_json::value::RawValue;

/// Keywords Gemini rejects.
const REJECTED: &[&str] = &["additionalProperties", "$schema", "$id", "$comment"];

/// Keywords whose value is data (or a map of names), not a schema, and so is not walked as one.
const DATA: &[&str] = &[
    "enum", "const", "default", "examples", "example", "required",
];

/// Keywords whose value maps names to schemas.
const MAPS: &[&str] = &["properties", "$defs", "definitions", "patternProperties"];

/// `schema` without the keywords Gemini rejects. Schemas that contain none are copied as text;
/// only the others are parsed and rewritten.
pub(super) fn for_gemini(schema: &RawValue) -> Box<RawValue> {
    let text = schema.get();
    if !REJECTED.iter().any(|k| text.contains(k)) {
        return schema.to_owned();
    }
    let Ok(mut value) = serde_json::from_str::<Value>(text) else {
        return schema.to_owned();
    };
    strip(&mut value);
    serde_json::value::to_raw_value(&value).unwrap_or_else(|_| schema.to_owned())
}

fn strip(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for k in REJECTED {
                map.remove(*k);
            }
            for (k, child) in map.iter_mut() {
                if DATA.contains(&k.as_str()) {
                    continue;
                }
                match child {
                    Value::Object(named) if MAPS.contains(&k.as_str()) => {
                        named.values_mut().for_each(strip);
                    }
                    _ => strip(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Value {
        let raw = RawValue::from_string(s.to_string()).unwrap();
        serde_json::from_str(for_gemini(&raw).get()).unwrap()
    }

    #[test]
    fn rejected_keywords_are_removed_at_every_depth() {
        let out = run(
            r#"{"$schema":"x","type":"object","additionalProperties":false,
               "properties":{"a":{"type":"object","additionalProperties":false,"properties":{}}},
               "items":[{"$id":"y","type":"string"}]}"#,
        );
        assert_eq!(
            out,
            serde_json::json!({"type":"object","properties":{"a":{"type":"object","properties":{}}},
                "items":[{"type":"string"}]})
        );
    }

    #[test]
    fn a_property_named_like_a_keyword_is_kept() {
        let out = run(
            r#"{"type":"object","properties":{"additionalProperties":{"type":"string"}},
               "required":["additionalProperties"]}"#,
        );
        assert_eq!(out["properties"]["additionalProperties"]["type"], "string");
        assert_eq!(out["required"][0], "additionalProperties");
    }

    #[test]
    fn clean_schemas_are_copied_verbatim() {
        let raw = RawValue::from_string(r#"{"type": "string"}"#.to_string()).unwrap();
        assert_eq!(for_gemini(&raw).get(), r#"{"type": "string"}"#);
    }
}
