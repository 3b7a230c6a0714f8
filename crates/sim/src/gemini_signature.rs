//! Gemini 3's thought signatures: models of generation 3 and later sign the first function
//! call of each step (`thoughtSignature` beside `functionCall`), and refuse a request whose
//! current turn replays a model step's first call without its signature, or with one they did
//! not issue, with Google's 400 `INVALID_ARGUMENT`.
//!
//! The current turn is everything after the last user content holding text (or media): tool
//! results alone do not start a new turn. Signatures are opaque standard base64, as Google's;
//! here they encode the function's name, so a signature moved to another call is caught too.

use crate::synth;
use serde_json::Value;

const PREFIX: &[u8] = b"gemini-sim-thought\0";

/// `gemini-3-pro`, `gemini-3.5-flash`, `gemini-4…`: the models that sign and check.
pub(crate) fn signs(model: &str) -> bool {
    let model = model.strip_prefix("models/").unwrap_or(model);
    let Some(rest) = model.strip_prefix("gemini-") else {
        return false;
    };
    let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
    major.parse::<u32>().is_ok_and(|m| m >= 3)
}

/// The signature of a call to `name`: deterministic, opaque, long like Google's.
pub(crate) fn sign(name: &str, key: u64) -> String {
    let mut bytes = PREFIX.to_vec();
    bytes.extend_from_slice(name.as_bytes());
    bytes.push(0);
    let mut x = key;
    bytes.extend((0..48).map(|_| {
        x = synth::splitmix(x);
        (x & 0xff) as u8
    }));
    synth::base64(&bytes)
}

/// Whether `signature` is one [`sign`] issued for a call to `name`.
fn valid(signature: &str, name: &str) -> bool {
    let Some(bytes) = unbase64(signature) else {
        return false;
    };
    let mut want = PREFIX.to_vec();
    want.extend_from_slice(name.as_bytes());
    want.push(0);
    bytes.starts_with(&want)
}

/// Checks the request's current turn; the error message is Google's.
pub(crate) fn check(req: &Value) -> Result<(), String> {
    let contents = req
        .get("contents")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let parts = |c: &Value| -> Vec<Value> {
        c.get("parts")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let starts_turn = |c: &Value| {
        c.get("role").and_then(Value::as_str) != Some("model")
            && parts(c).iter().any(|p| p.get("functionResponse").is_none())
    };
    let start = contents.iter().rposition(starts_turn).unwrap_or(0);
    for (position, content) in contents.iter().enumerate().skip(start) {
        if content.get("role").and_then(Value::as_str) != Some("model") {
            continue;
        }
        let parts = parts(content);
        let Some(first) = parts.iter().find(|p| p.get("functionCall").is_some()) else {
            continue;
        };
        let name = first
            .pointer("/functionCall/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match first.get("thoughtSignature").and_then(Value::as_str) {
            None => {
                return Err(format!(
                    "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:{name}` , position {}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
                    position + 1
                ));
            }
            Some(sig) if !valid(sig, name) => {
                return Err(format!(
                    "Corrupted thought signature. Additional data, function call `default_api:{name}` , position {}.",
                    position + 1
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Standard base64 with padding, strictly; `None` for anything else.
fn unbase64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generation_three_and_later_sign() {
        for m in [
            "gemini-3-pro-preview",
            "gemini-3.5-flash",
            "models/gemini-4-pro",
        ] {
            assert!(signs(m), "{m}");
        }
        for m in ["gemini-2.5-pro", "gemini-1.5-flash", "gemini-pro", "gpt-4o"] {
            assert!(!signs(m), "{m}");
        }
    }

    #[test]
    fn a_signature_is_valid_for_its_own_function_only() {
        let s = sign("get_weather", 42);
        assert!(s.len() > 80);
        assert!(valid(&s, "get_weather"));
        assert!(!valid(&s, "get_time"));
        assert!(!valid(&s[1..], "get_weather"));
    }

    fn turn(call_part: Value) -> Value {
        json!({"contents": [
            {"role": "user", "parts": [{"text": "weather?"}]},
            {"role": "model", "parts": [call_part, {"functionCall": {"name": "get_weather", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {}}}]},
        ]})
    }

    #[test]
    fn the_current_turns_first_call_must_carry_its_signature() {
        let call = json!({"functionCall": {"name": "get_weather", "args": {}}});
        let e = check(&turn(call.clone())).unwrap_err();
        assert!(e.contains("missing a thought_signature"), "{e}");
        assert!(e.contains("position 2"), "{e}");
        let mut signed = call.clone();
        signed["thoughtSignature"] = json!(sign("get_weather", 1));
        assert_eq!(check(&turn(signed)), Ok(()));
        let mut wrong = call;
        wrong["thoughtSignature"] = json!(sign("get_time", 1));
        assert!(check(&turn(wrong)).unwrap_err().contains("Corrupted"));
    }

    #[test]
    fn earlier_turns_are_not_checked() {
        let mut req = turn(json!({"functionCall": {"name": "get_weather", "args": {}}}));
        req["contents"]
            .as_array_mut()
            .unwrap()
            .push(json!({"role": "user", "parts": [{"text": "thanks; and now?"}]}));
        assert_eq!(check(&req), Ok(()));
    }
}
