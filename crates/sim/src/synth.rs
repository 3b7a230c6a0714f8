//! Deterministic generation: hashing, a seeded generator, text, JSON from a schema.

use serde_json::{Map, Value, json};

/// FNV-1a, stable across runs and platforms.
pub fn hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A uniform draw in [0, 1).
pub fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Approximate tokens in `text`: about four characters a token, as OpenAI's guidance says.
pub fn approx_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

const WORDS: &[&str] = &[
    "the", "request", "model", "answer", "customer", "order", "account", "review", "change",
    "code", "function", "summary", "report", "team", "issue", "update", "value", "result",
    "service", "data", "cost", "latency", "route", "provider", "token", "budget", "quality",
    "test", "release", "plan", "is", "can", "will", "should", "has", "shows", "needs", "returns",
    "improves", "reduces", "quickly", "clearly", "safely", "today", "again", "first", "next",
    "also", "only", "well",
];

/// `n` tokens of plausible text, each a word with its leading space.
pub fn tokens(seed: u64, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let mut x = seed;
    for i in 0..n {
        x = splitmix(x);
        let w = WORDS[(x % WORDS.len() as u64) as usize];
        let end = i + 1 == n || x % 11 == 0;
        let tok = match (i, end) {
            (0, _) => capitalize(w),
            (_, true) => format!(" {w}."),
            _ => format!(" {w}"),
        };
        out.push(tok);
    }
    out
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// A value that satisfies a JSON Schema's common keywords (type, properties, required, enum,
/// items, anyOf), deterministically.
pub fn from_schema(schema: &Value, seed: u64, depth: usize) -> Value {
    if depth > 6 {
        return Value::Null;
    }
    if let Some(e) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return e.clone();
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(first) = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return from_schema(first, seed, depth + 1);
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    match ty {
        "object" => {
            let mut m = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (i, (k, v)) in props.iter().enumerate() {
                    m.insert(
                        k.clone(),
                        from_schema(v, splitmix(seed ^ i as u64), depth + 1),
                    );
                }
            }
            Value::Object(m)
        }
        "array" => {
            let item = schema
                .get("items")
                .cloned()
                .unwrap_or(json!({"type": "string"}));
            Value::Array(
                (0..2)
                    .map(|i| from_schema(&item, splitmix(seed + i), depth + 1))
                    .collect(),
            )
        }
        "integer" => json!((seed % 100) as i64),
        "number" => json!((seed % 10_000) as f64 / 100.0),
        "boolean" => json!(seed % 2 == 0),
        "null" => Value::Null,
        _ => json!(tokens(seed, 3).concat()),
    }
}

/// Standard base64 (RFC 4648) with padding.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn schema_values_have_the_required_shape() {
        let s = json!({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"},"unit":{"enum":["c","f"]},"tags":{"type":"array","items":{"type":"string"}}},"required":["city"]});
        let v = from_schema(&s, 1, 0);
        assert!(
            v["city"].is_string()
                && v["days"].is_i64()
                && v["unit"] == "c"
                && v["tags"].as_array().unwrap().len() == 2
        );
    }

    #[test]
    fn text_is_deterministic() {
        assert_eq!(tokens(5, 10), tokens(5, 10));
        assert_ne!(tokens(5, 10), tokens(6, 10));
    }
}
