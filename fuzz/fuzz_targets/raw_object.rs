//! Fuzzes the raw-object view ([`RawObject`]), the first step of every OpenAI and Anthropic
//! request parse: a JSON object kept as its top-level members, each value unparsed.
//!
//! An accepted object must re-emit (`with_model`) as a JSON object that parses again to the
//! same members in the same order, byte for byte, with only `model` rewritten or left out; the
//! members must be what serde_json reads from the body; and every member must decode as a
//! JSON value. Bodies with many members (use `-max_len`) show whether the parse is linear.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use switchyard_protocol::openai::RawObject;

fuzz_target!(|body: &[u8]| {
    let Ok(raw) = RawObject::parse(body) else {
        return;
    };
    let members: Vec<(String, String)> = raw
        .iter()
        .map(|(k, v)| (k.to_string(), v.get().to_string()))
        .collect();
    // serde_json's own reading of the body (when it can hold every number as a Value).
    if let Ok(Value::Object(parsed)) = serde_json::from_slice::<Value>(body) {
        assert_eq!(parsed.len(), members.len(), "no member is lost or doubled");
        for (k, _) in &members {
            assert!(
                parsed.contains_key(k),
                "member {k:?} is what serde_json reads"
            );
        }
    }
    for model in [Some("m\"\\\n\u{1}"), None] {
        let out = raw.with_model(model);
        let again = match RawObject::parse(&out) {
            Ok(r) => r,
            Err(e) => panic!("the re-emitted object is refused: {}", e.message),
        };
        let expected: Vec<(String, String)> = members
            .iter()
            .filter(|(k, _)| k != "model" || model.is_some())
            .map(|(k, v)| match model.filter(|_| k == "model") {
                Some(m) => (k.clone(), serde_json::to_string(m).unwrap_or_default()),
                None => (k.clone(), v.clone()),
            })
            .collect();
        let got: Vec<(String, String)> = again
            .iter()
            .map(|(k, v)| (k.to_string(), v.get().to_string()))
            .collect();
        assert_eq!(got, expected, "members survive the re-emit byte for byte");
    }
});
