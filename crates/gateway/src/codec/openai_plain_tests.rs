//! A plain request's key read in place equals its key from the canonical conversion; a
//! request that is not plain is left to the conversion.

use super::plain;
use crate::cache::key::{KeyParts, SchemaMemo, Talk, key};
use switchyard_protocol::canonical;
use switchyard_protocol::openai::ChatRequest;

fn keyed(
    (request, talk): (&canonical::ChatRequest, Talk<'_>),
    seed: Option<&serde_json::value::RawValue>,
    shared: bool,
) -> switchyard_cache::Key {
    key(&KeyParts {
        targets: &[7; 32],
        scope: "team:t",
        shared,
        request,
        talk,
        seed,
        schemas: &SchemaMemo::default(),
    })
    .key
}

fn both(body: &str, shared: bool) -> (switchyard_cache::Key, Option<switchyard_cache::Key>) {
    let view = ChatRequest::parse(body.as_bytes()).unwrap();
    let converted = canonical::ChatRequest::try_from(&view).unwrap();
    let seed = view.raw().get("seed");
    let slow = keyed((&converted, Talk::of(&converted)), seed, shared);
    let fast = plain(&view).map(|p| keyed((&p.rest, Talk::Plain(&p.turns)), p.seed, shared));
    (slow, fast)
}

#[test]
fn a_plain_request_keyed_in_place_has_the_key_of_its_canonical_conversion() {
    let long = "line one\\nline two \\u00e9 ".repeat(400);
    let bodies = [
        r#"{"model":"r","messages":[{"role":"user","content":"Hi"}]}"#.to_owned(),
        r#"{"model":"r","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":50,"temperature":0}"#.to_owned(),
        // System and developer messages wherever they stand, an empty assistant turn, every
        // ignored member, sampling and seed.
        r#"{"model":"r","messages":[{"role":"user","content":"a"},{"role":"developer","content":"d"},{"role":"assistant","content":null},{"role":"assistant","content":"b"},{"role":"system","content":"s"},{"role":"user","content":"c","name":"ann"}],"temperature":0.7,"top_p":0.9,"max_completion_tokens":9,"seed":42,"stream":true,"stream_options":{"include_usage":true},"user":"u1","metadata":{"a":"b"},"store":false,"service_tier":"auto","prompt_cache_key":"k","verbosity":"low","safety_identifier":"s"}"#.to_owned(),
        format!(r#"{{"model":"r","messages":[{{"role":"system","content":"{long}"}},{{"role":"user","content":"{long}?"}}]}}"#),
    ];
    for body in &bodies {
        for shared in [false, true] {
            let (slow, fast) = both(body, shared);
            assert_eq!(fast, Some(slow), "{body}");
        }
    }
}

#[test]
fn a_request_that_is_not_plain_is_left_to_the_canonical_conversion() {
    for body in [
        r#"{"model":"r","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}"#,
        r#"{"model":"r","messages":[{"role":"user","content":"Hi"}],"stop":["x"]}"#,
        r#"{"model":"r","messages":[{"role":"user","content":"Hi"}],"top_k":3}"#,
        r#"{"model":"r","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}"#,
        r#"{"model":"r","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"ok"}]}"#,
        r#"{"model":"r","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"text"}}"#,
        r#"{"model":"r","messages":[{"role":"user","content":"Hi"}],"n":1}"#,
    ] {
        let view = ChatRequest::parse(body.as_bytes()).unwrap();
        assert!(plain(&view).is_none(), "{body}");
    }
}
