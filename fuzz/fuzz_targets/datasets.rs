//! Fuzzes the evaluation dataset importers: JSONL datasets and promptfoo test files (YAML).
//! Every input is offered to both.
//!
//! Beyond "no panic": a refused file lists at least one problem, each with a message; an
//! accepted file's item ids are unique; and every item's `input`, with a model set as the
//! replay runner sets it, is a chat body the gateway's OpenAI reader accepts (an imported
//! dataset never fails at replay time for its shape).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::collections::HashSet;
use switchyard_eval::{DatasetItem, import_jsonl, import_promptfoo};
use switchyard_protocol::openai::ChatRequest;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match import_jsonl(text) {
        Ok(items) => check_items(&items),
        Err(errors) => {
            assert!(!errors.is_empty(), "a refused dataset lists its problems");
            assert!(errors.iter().all(|e| !e.message.is_empty()), "{errors:?}");
        }
    }
    match import_promptfoo(text) {
        Ok(items) => check_items(&items),
        Err(errors) => {
            assert!(
                !errors.is_empty(),
                "a refused promptfoo file lists its problems"
            );
            assert!(errors.iter().all(|e| !e.message.is_empty()), "{errors:?}");
        }
    }
});

fn check_items(items: &[DatasetItem]) {
    let mut ids = HashSet::new();
    for item in items {
        assert!(ids.insert(item.id.as_str()), "duplicate id {:?}", item.id);
        let mut input = item.input.clone();
        let Value::Object(body) = &mut input else {
            panic!("an item's input is not a JSON object: {input}");
        };
        body.insert("model".into(), Value::String("replay-route".into()));
        let bytes = input.to_string().into_bytes();
        if let Err(e) = ChatRequest::parse(&bytes) {
            panic!(
                "an imported item would be refused at replay: {}: {input}",
                e.message
            );
        }
    }
}
