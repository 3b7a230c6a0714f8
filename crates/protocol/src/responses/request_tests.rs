//! Tests of the Responses request parse: items, tools, formats, errors naming the field.

use super::*;
use crate::canonical::Role;

fn ok(body: &str) -> Request<'_> {
    parse(body.as_bytes()).unwrap()
}

fn err(body: &str) -> FieldError {
    parse(body.as_bytes()).unwrap_err()
}

#[test]
fn a_string_input_with_instructions_becomes_system_and_one_user_turn() {
    let r = ok(r#"{"model":"m","input":"hi","instructions":"be brief","max_output_tokens":9}"#);
    let c = &r.canonical;
    assert!(matches!(&c.system[..], [Block::Text { text, .. }] if text == "be brief"));
    assert_eq!(c.messages.len(), 1);
    assert_eq!(c.messages[0].role, Role::User);
    assert_eq!(c.max_tokens, Some(9));
    assert!(r.store && r.untranslatable.is_none());
}

#[test]
fn items_map_to_turns_with_a_function_call_round_trip() {
    let r = ok(r#"{"model":"m","store":false,"input":[
        {"role":"developer","content":"sys"},
        {"type":"message","role":"user","content":[{"type":"input_text","text":"weather?"},{"type":"input_image","image_url":"data:image/png;base64,AAAA"}]},
        {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"need tool"}],"encrypted_content":"swy1:sig"},
        {"type":"function_call","call_id":"call_1","name":"get","arguments":"{\"city\":\"Oslo\"}"},
        {"type":"function_call_output","call_id":"call_1","output":"sunny"}
    ],"tools":[{"type":"function","name":"get","parameters":{"type":"object"}}],"tool_choice":"required"}"#);
    let c = &r.canonical;
    assert!(!r.store);
    assert_eq!(c.system.len(), 1);
    let roles: Vec<Role> = c.messages.iter().map(|t| t.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::Tool]);
    assert!(matches!(c.messages[0].content[1], Block::Image { .. }));
    assert!(
        matches!(&c.messages[1].content[0], Block::Thinking { signature: Some(s), .. } if s == "sig")
    );
    assert!(matches!(&c.messages[1].content[1], Block::ToolUse { id, .. } if id == "call_1"));
    assert_eq!(c.tools[0].name, "get");
    assert_eq!(c.tool_choice, Some(ToolChoice::Any));
}

#[test]
fn openai_encrypted_reasoning_is_not_passed_off_as_a_signature() {
    let r = ok(
        r#"{"model":"m","input":[{"type":"reasoning","summary":[{"type":"summary_text","text":"t"}],"encrypted_content":"gAAAA"},{"role":"user","content":"x"}]}"#,
    );
    assert!(matches!(
        &r.canonical.messages[0].content[0],
        Block::Thinking {
            signature: None,
            ..
        }
    ));
}

#[test]
fn built_in_tools_and_files_are_kept_for_native_targets_but_marked_untranslatable() {
    let r = ok(r#"{"model":"m","input":"x","tools":[{"type":"web_search"}]}"#);
    let e = r.untranslatable.unwrap();
    assert_eq!(e.param.as_deref(), Some("tools[0].type"));
    assert!(e.message.contains("web_search"), "{}", e.message);
    let r = ok(
        r#"{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}"#,
    );
    assert_eq!(
        r.untranslatable.unwrap().param.as_deref(),
        Some("input[0].content[0].type")
    );
}

#[test]
fn json_schema_format_is_read_from_text_format() {
    let r = ok(
        r#"{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"w","schema":{"type":"object"},"strict":true}}}"#,
    );
    assert!(
        matches!(&r.canonical.response_format, ResponseFormat::JsonSchema { name, schema: Some(_) } if name == "w")
    );
}

#[test]
fn bad_items_are_refused_naming_the_field() {
    let cases = [
        (
            r#"{"model":"m","input":[{"type":"bogus"}]}"#,
            "input[0].type",
        ),
        (
            r#"{"model":"m","input":[{"type":"function_call","name":"f"}]}"#,
            "input[0].call_id",
        ),
        (
            r#"{"model":"m","input":[{"role":"user","content":[{"type":"nope"}]}]}"#,
            "input[0].content[0].type",
        ),
        (
            r#"{"model":"m","input":[{"role":"wizard","content":"x"}]}"#,
            "input[0].role",
        ),
        (
            r#"{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}"#,
            "input[0].type",
        ),
        (
            r#"{"model":"m","input":"x","temperature":7}"#,
            "temperature",
        ),
        (
            r#"{"model":"m","input":"x","text":{"format":{"type":"yaml"}}}"#,
            "text.format.type",
        ),
        (r#"{"model":"m"}"#, "input"),
        (r#"{"input":"x"}"#, "model"),
    ];
    for (body, param) in cases {
        assert_eq!(err(body).param.as_deref(), Some(param), "{body}");
    }
}

#[test]
fn a_tool_output_for_an_unknown_call_is_refused_unless_a_previous_response_holds_it() {
    let body = r#"{"model":"m","input":[{"type":"function_call_output","call_id":"call_x","output":"1"}]}"#;
    let e = err(body);
    assert_eq!(e.param.as_deref(), Some("input"));
    assert!(e.message.contains("call_x"));
    let with_prev = r#"{"model":"m","previous_response_id":"resp_1","input":[{"type":"function_call_output","call_id":"call_x","output":"1"}]}"#;
    assert_eq!(
        ok(with_prev).previous_response_id.as_deref(),
        Some("resp_1")
    );
}

#[test]
fn unknown_members_travel_in_extra_and_the_raw_body_is_kept() {
    let r = ok(r#"{"model":"m","input":"x","vendor_knob":3,"metadata":{"a":"b"}}"#);
    assert_eq!(r.canonical.extra.len(), 1);
    assert_eq!(r.canonical.extra[0].0, "vendor_knob");
    let out = String::from_utf8(r.raw.with_model(Some("up"))).unwrap();
    assert_eq!(
        out,
        r#"{"model":"up","input":"x","vendor_knob":3,"metadata":{"a":"b"}}"#
    );
}

#[test]
fn every_prefix_and_byte_flip_of_a_body_is_refused_or_parsed_never_panics() {
    let body = br#"{"model":"m","instructions":"i","input":[{"role":"user","content":[{"type":"input_text","text":"a\u00e9"},{"type":"input_image","image_url":"data:image/png;base64,AA"}]},{"type":"function_call","call_id":"c","name":"f","arguments":"{\"x\":1}"},{"type":"function_call_output","call_id":"c","output":[{"type":"input_text","text":"r"}]},{"type":"reasoning","summary":[{"type":"summary_text","text":"s"}]}],"tools":[{"type":"function","name":"f"},{"type":"web_search"}],"tool_choice":{"type":"function","name":"f"},"text":{"format":{"type":"json_schema","name":"n","schema":{}}}}"#;
    assert!(parse(body).is_ok());
    for end in 0..body.len() {
        let _ = parse(&body[..end]);
    }
    for i in 0..body.len() {
        for b in [b'"', b'{', b']', b'0', 0xff] {
            let mut v = body.to_vec();
            v[i] = b;
            if let Err(e) = parse(&v) {
                assert!(!e.message.is_empty());
            }
        }
    }
}
