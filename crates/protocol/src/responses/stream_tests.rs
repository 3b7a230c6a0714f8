//! Tests of the typed Responses event sequence rendered from canonical stream events.

use super::*;
use serde_json::Value;

fn render(events: Vec<StreamEvent>) -> Vec<(String, Value)> {
    let mut r = Renderer::new(Ids::new("x1"), "m".into(), 5, String::new());
    let mut frames: Vec<String> = events.into_iter().flat_map(|e| r.push(e)).collect();
    frames.extend(r.finish());
    frames
        .iter()
        .map(|f| {
            let (head, data) = f.split_once("\ndata: ").unwrap();
            let v: Value = serde_json::from_str(data.trim_end()).unwrap();
            (head.trim_start_matches("event: ").to_string(), v)
        })
        .collect()
}

fn names(frames: &[(String, Value)]) -> Vec<&str> {
    frames.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn a_text_answer_streams_the_typed_sequence_with_sequence_numbers() {
    let f = render(vec![
        StreamEvent::Start {
            id: "c".into(),
            model: "up".into(),
        },
        StreamEvent::Text("Hel".into()),
        StreamEvent::Text("lo".into()),
        StreamEvent::Finish(StopReason::EndTurn),
        StreamEvent::Usage(TokenUsage::from_openai(3, 1, 2, 0)),
    ]);
    assert_eq!(
        names(&f),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (i, (name, v)) in f.iter().enumerate() {
        assert_eq!(v["sequence_number"], i as u64);
        assert_eq!(&v["type"], name.as_str());
    }
    assert_eq!(f[4].1["delta"], "Hel");
    assert_eq!(f[6].1["text"], "Hello");
    let done = &f[9].1["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["output"][0]["content"][0]["text"], "Hello");
    assert_eq!(done["usage"]["input_tokens"], 3);
    assert_eq!(f[0].1["response"]["status"], "in_progress");
}

#[test]
fn reasoning_and_a_tool_call_are_separate_items() {
    let f = render(vec![
        StreamEvent::Start {
            id: "c".into(),
            model: "up".into(),
        },
        StreamEvent::Reasoning("think".into()),
        StreamEvent::ReasoningSignature("S".into()),
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_1".into(),
            name: "get".into(),
        },
        StreamEvent::ToolCallArguments {
            index: 0,
            fragment: "{\"a\":".into(),
        },
        StreamEvent::ToolCallArguments {
            index: 0,
            fragment: "1}".into(),
        },
        StreamEvent::Finish(StopReason::ToolUse),
    ]);
    let n = names(&f);
    assert!(n.contains(&"response.reasoning_summary_text.delta"));
    let args_done = f
        .iter()
        .find(|(n, _)| n == "response.function_call_arguments.done")
        .unwrap();
    assert_eq!(args_done.1["arguments"], "{\"a\":1}");
    assert_eq!(args_done.1["output_index"], 1);
    let out = &f.last().unwrap().1["response"]["output"];
    assert_eq!(out[0]["type"], "reasoning");
    assert_eq!(out[0]["encrypted_content"], "swy1:S");
    assert_eq!(out[1]["type"], "function_call");
    assert_eq!(out[1]["call_id"], "call_1");
}

#[test]
fn the_output_limit_ends_incomplete_and_an_error_or_a_cut_stream_fails() {
    let f = render(vec![
        StreamEvent::Text("a".into()),
        StreamEvent::Finish(StopReason::MaxTokens),
    ]);
    assert_eq!(f.last().unwrap().0, "response.incomplete");
    assert_eq!(
        f.last().unwrap().1["response"]["incomplete_details"]["reason"],
        "max_output_tokens"
    );
    let f = render(vec![
        StreamEvent::Text("a".into()),
        StreamEvent::Error {
            kind: "overloaded_error".into(),
            message: "busy".into(),
        },
    ]);
    let (name, v) = f.last().unwrap();
    assert_eq!(name, "response.failed");
    assert_eq!(v["response"]["error"]["code"], "overloaded_error");
    let f = render(vec![StreamEvent::Text("a".into())]);
    assert_eq!(f.last().unwrap().0, "response.failed");
}
