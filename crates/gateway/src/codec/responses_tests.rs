//! Tests of the Responses codec's translated streams: the tee's usage.

use super::*;
use futures_util::FutureExt;
use futures_util::stream::{self, StreamExt};

const ANTHROPIC: &str = concat!(
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":[],\"usage\":{\"input_tokens\":10,\"cache_creation_input_tokens\":50,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
);

/// An Anthropic stream rendered for a Responses client: the tee's reader prices the
/// canonical usage, cache writes included, not the Responses `usage` object (which has no
/// place for them).
#[test]
fn the_tee_reads_the_upstreams_usage_with_its_cache_writes() {
    let upstream = stream::iter(vec![Ok(Bytes::from_static(ANTHROPIC.as_bytes()))]).boxed();
    let usage = SharedUsage::default();
    let renderer = Renderer::new(Ids::new("t"), "m".into(), 1, String::new());
    let out = rendered(upstream, Dialect::Anthropic, renderer, usage.clone())
        .collect::<Vec<_>>()
        .now_or_never()
        .unwrap();
    let bytes: Vec<u8> = out.into_iter().flat_map(|b| b.unwrap().to_vec()).collect();
    let text = String::from_utf8(bytes).unwrap();
    let last = text.trim_end().rsplit("\n\n").next().unwrap();
    assert!(last.starts_with("event: response.completed"), "{text}");
    let data = last.split_once("data: ").unwrap().1;
    let ev = SseEvent {
        raw: Bytes::new(),
        event: Some("response.completed".into()),
        data: data.to_string(),
    };
    let mut plain = Progress::default();
    ResponsesReader::default().inspect(&ev, &mut plain);
    assert_eq!(
        plain.usage.unwrap().cache_write,
        0,
        "the Responses shape drops it"
    );
    let mut p = Progress::default();
    let mut reader = ResponsesReader {
        canonical: Some(usage),
    };
    assert!(reader.inspect(&ev, &mut p));
    let u = p.usage.unwrap();
    assert_eq!((u.input, u.cache_write, u.output), (10, 50, 5), "{u:?}");
}
