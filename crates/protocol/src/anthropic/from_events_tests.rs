use super::*;
use crate::canonical::StopReason;

fn render(events: Vec<StreamEvent>) -> Vec<serde_json::Value> {
    let mut w = FrameWriter::new(Some("claude-route".into()));
    let mut out = Vec::new();
    for ev in events {
        w.render(ev, &mut out);
    }
    w.end(&mut out);
    w.end(&mut out);
    out.iter()
        .map(|f| {
            let (name, data) = f
                .strip_prefix("event: ")
                .and_then(|f| f.split_once("\ndata: "))
                .unwrap();
            let v: serde_json::Value = serde_json::from_str(data.trim_end()).unwrap();
            assert_eq!(v["type"], name, "the event name is the data's type");
            v
        })
        .collect()
}

#[test]
fn thinking_with_its_signature_then_a_tool_call_become_two_blocks_and_the_final_usage() {
    let frames = render(vec![
        StreamEvent::Start {
            id: "r1".into(),
            model: "gemini-x".into(),
        },
        StreamEvent::Reasoning("hmm".into()),
        StreamEvent::ReasoningSignature("sig".into()),
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_0".into(),
            name: "get".into(),
        },
        StreamEvent::ToolCallArguments {
            index: 0,
            fragment: "{\"a\":1}".into(),
        },
        StreamEvent::Usage(TokenUsage {
            input: 5,
            output: 2,
            reasoning: 3,
            ..TokenUsage::default()
        }),
        StreamEvent::Finish(StopReason::ToolUse),
    ]);
    let types: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(frames[0]["message"]["id"], "msg_r1");
    assert_eq!(frames[0]["message"]["model"], "claude-route");
    assert_eq!(frames[3]["delta"]["type"], "signature_delta");
    assert_eq!(frames[3]["delta"]["signature"], "sig");
    assert_eq!(frames[5]["content_block"]["id"], "call_0");
    assert_eq!(frames[5]["index"], 1);
    assert_eq!(frames[6]["delta"]["partial_json"], "{\"a\":1}");
    assert_eq!(frames[8]["delta"]["stop_reason"], "tool_use");
    assert_eq!(frames[8]["usage"]["output_tokens"], 5);
    assert_eq!(
        frames[8]["usage"]["output_tokens_details"]["thinking_tokens"],
        3
    );
}

#[test]
fn an_error_ends_the_stream_with_an_error_frame_and_nothing_after() {
    let frames = render(vec![
        StreamEvent::Start {
            id: "r".into(),
            model: "m".into(),
        },
        StreamEvent::Text("Hi".into()),
        StreamEvent::Error {
            kind: "overloaded_error".into(),
            message: "busy".into(),
        },
        StreamEvent::Text("late".into()),
    ]);
    let last = frames.last().unwrap();
    assert_eq!(last["type"], "error");
    assert_eq!(last["error"]["type"], "overloaded_error");
    assert_eq!(frames.len(), 4, "start, block start, delta, error");
}

#[test]
fn a_stream_that_ends_without_a_start_or_finish_still_frames_a_whole_message() {
    let frames = render(vec![]);
    let types: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["message_start", "message_delta", "message_stop"]);
    assert_eq!(frames[1]["delta"]["stop_reason"], "end_turn");
}
