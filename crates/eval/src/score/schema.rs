//! A small JSON Schema validator: the subset structured-output checks use.
//!
//! Supported: boolean schemas, `type` (a name or an array of names; `integer` is a number
//! with no fractional part, `"null"` in the array makes a field nullable, as does OpenAPI's
//! `nullable: true`), `properties`, `required`, `additionalProperties` (bool or schema),
//! `items` (one schema for every element), `enum`, `const`, `minimum`, `maximum`,
//! `exclusiveMinimum`, `exclusiveMaximum` (numbers, draft 6+), `minLength`/`maxLength`
//! (in Unicode scalar values), `pattern` (unanchored, Rust regex syntax), `minItems`,
//! `maxItems`, `anyOf`, `oneOf`, `allOf`. Other keywords are ignored, except `$ref`, which
//! [`unsupported_keyword`] reports so a schema that relies on it is refused up front rather
//! than silently passing everything.

use super::json::json_eq;
use regex::Regex;
use serde_json::{Map, Value};

/// The first place an instance breaks a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// JSON pointer (RFC 6901) of the failing value; empty for the document itself.
    pub pointer: String,
    pub message: String,
}

impl std::error::Error for SchemaError {}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(f, "at {at}: {}", self.message)
    }
}

/// Checks `instance` against `schema`, stopping at the first failure.
pub fn validate(schema: &Value, instance: &Value) -> Result<(), SchemaError> {
    check(schema, instance, "")
}

/// The pointer of the first `$ref` in a schema, which this validator cannot follow.
pub fn unsupported_keyword(schema: &Value) -> Option<String> {
    fn walk(v: &Value, path: &str) -> Option<String> {
        match v {
            Value::Object(map) => {
                if map.contains_key("$ref") {
                    return Some(format!("{path}/$ref"));
                }
                map.iter()
                    .find_map(|(k, v)| walk(v, &format!("{path}/{}", escape(k))))
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| walk(v, &format!("{path}/{i}"))),
            _ => None,
        }
    }
    walk(schema, "")
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn fail(pointer: &str, message: String) -> Result<(), SchemaError> {
    Err(SchemaError {
        pointer: pointer.to_owned(),
        message,
    })
}

fn check(schema: &Value, instance: &Value, at: &str) -> Result<(), SchemaError> {
    let map = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return fail(at, "no value is allowed here".into()),
        Value::Object(map) => map,
        _ => {
            return fail(
                at,
                "the schema here is neither an object nor a boolean".into(),
            );
        }
    };
    if instance.is_null() && map.get("nullable") == Some(&Value::Bool(true)) {
        return Ok(());
    }
    check_type(map, instance, at)?;
    check_values(map, instance, at)?;
    check_combinators(map, instance, at)?;
    match instance {
        Value::Number(_) => check_number(map, instance, at),
        Value::String(s) => check_string(map, s, at),
        Value::Array(items) => check_array(map, items, at),
        Value::Object(obj) => check_object(map, obj, at),
        _ => Ok(()),
    }
}

fn type_matches(name: &str, instance: &Value) -> bool {
    match name {
        "null" => instance.is_null(),
        "boolean" => instance.is_boolean(),
        "string" => instance.is_string(),
        "array" => instance.is_array(),
        "object" => instance.is_object(),
        "number" => instance.is_number(),
        "integer" => instance
            .as_f64()
            .is_some_and(|f| instance.is_i64() || instance.is_u64() || f.fract() == 0.0),
        _ => false,
    }
}

fn type_name(instance: &Value) -> &'static str {
    match instance {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check_type(map: &Map<String, Value>, instance: &Value, at: &str) -> Result<(), SchemaError> {
    let names: Vec<&str> = match map.get("type") {
        None => return Ok(()),
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        Some(_) => return Ok(()),
    };
    if names.iter().any(|n| type_matches(n, instance)) {
        return Ok(());
    }
    fail(
        at,
        format!(
            "expected type {}, got {}",
            names.join(" or "),
            type_name(instance)
        ),
    )
}

fn check_values(map: &Map<String, Value>, instance: &Value, at: &str) -> Result<(), SchemaError> {
    if let Some(Value::Array(options)) = map.get("enum") {
        if !options.iter().any(|o| json_eq(o, instance)) {
            return fail(
                at,
                format!("{instance} is not one of {}", Value::Array(options.clone())),
            );
        }
    }
    if let Some(constant) = map.get("const") {
        if !json_eq(constant, instance) {
            return fail(
                at,
                format!("expected the constant {constant}, got {instance}"),
            );
        }
    }
    Ok(())
}

fn check_combinators(
    map: &Map<String, Value>,
    instance: &Value,
    at: &str,
) -> Result<(), SchemaError> {
    if let Some(Value::Array(all)) = map.get("allOf") {
        for sub in all {
            check(sub, instance, at)?;
        }
    }
    if let Some(Value::Array(any)) = map.get("anyOf") {
        let mut first = None;
        for sub in any {
            match check(sub, instance, at) {
                Ok(()) => {
                    first = None;
                    break;
                }
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first {
            return fail(at, format!("matches none of anyOf (first: {e})"));
        }
    }
    if let Some(Value::Array(one)) = map.get("oneOf") {
        let matching = one
            .iter()
            .filter(|s| check(s, instance, at).is_ok())
            .count();
        if matching != 1 {
            return fail(
                at,
                format!("matches {matching} of oneOf, expected exactly 1"),
            );
        }
    }
    Ok(())
}

fn bound(map: &Map<String, Value>, key: &str) -> Option<f64> {
    map.get(key).and_then(Value::as_f64)
}

/// A numeric keyword, its test against the bound, and the operator for messages.
type Bound = (&'static str, fn(f64, f64) -> bool, &'static str);

fn check_number(map: &Map<String, Value>, instance: &Value, at: &str) -> Result<(), SchemaError> {
    let Some(x) = instance.as_f64() else {
        return Ok(());
    };
    let checks: [Bound; 4] = [
        ("minimum", |x, b| x >= b, ">="),
        ("maximum", |x, b| x <= b, "<="),
        ("exclusiveMinimum", |x, b| x > b, ">"),
        ("exclusiveMaximum", |x, b| x < b, "<"),
    ];
    for (key, ok, op) in checks {
        if let Some(b) = bound(map, key) {
            if !ok(x, b) {
                return fail(at, format!("{x} must be {op} {b} ({key})"));
            }
        }
    }
    Ok(())
}

fn check_string(map: &Map<String, Value>, s: &str, at: &str) -> Result<(), SchemaError> {
    let len = s.chars().count() as f64;
    if let Some(min) = bound(map, "minLength") {
        if len < min {
            return fail(
                at,
                format!("string of length {len} is shorter than minLength {min}"),
            );
        }
    }
    if let Some(max) = bound(map, "maxLength") {
        if len > max {
            return fail(
                at,
                format!("string of length {len} is longer than maxLength {max}"),
            );
        }
    }
    if let Some(Value::String(pattern)) = map.get("pattern") {
        match Regex::new(pattern) {
            Ok(re) if re.is_match(s) => {}
            Ok(_) => return fail(at, format!("{s:?} does not match pattern /{pattern}/")),
            Err(e) => {
                return fail(
                    at,
                    format!("the schema's pattern /{pattern}/ is invalid: {e}"),
                );
            }
        }
    }
    Ok(())
}

fn check_array(map: &Map<String, Value>, items: &[Value], at: &str) -> Result<(), SchemaError> {
    let len = items.len() as f64;
    if let Some(min) = bound(map, "minItems") {
        if len < min {
            return fail(at, format!("{len} items, fewer than minItems {min}"));
        }
    }
    if let Some(max) = bound(map, "maxItems") {
        if len > max {
            return fail(at, format!("{len} items, more than maxItems {max}"));
        }
    }
    if let Some(item_schema) = map.get("items").filter(|s| !s.is_array()) {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{at}/{i}"))?;
        }
    }
    Ok(())
}

fn check_object(
    map: &Map<String, Value>,
    obj: &Map<String, Value>,
    at: &str,
) -> Result<(), SchemaError> {
    if let Some(Value::Array(required)) = map.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !obj.contains_key(name) {
                return fail(at, format!("missing required property {name:?}"));
            }
        }
    }
    let properties = map.get("properties").and_then(Value::as_object);
    for (key, value) in obj {
        let path = format!("{at}/{}", escape(key));
        match properties.and_then(|p| p.get(key)) {
            Some(sub) => check(sub, value, &path)?,
            None => match map.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    return fail(&path, format!("property {key:?} is not allowed"));
                }
                Some(sub @ Value::Object(_)) => check(sub, value, &path)?,
                _ => {}
            },
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
