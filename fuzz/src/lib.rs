//! Checks shared by the fuzz targets: what "valid output" means for the bytes Switchyard writes.
//!
//! A failed check panics with a message naming the property, so libFuzzer records the input as
//! a crash. Owns no parsing logic of its own: every parser exercised lives in the project's
//! crates and is called through the same public entry point the gateway uses.

use serde::de::IgnoredAny;
use serde_json::{Map, Value};
use switchyard_protocol::sse::{SseEvent, SseFramer};

/// Panics unless `bytes` is one complete JSON text by the grammar of RFC 8259; returns it as a
/// `Value` when serde_json can hold it. (A lone surrogate escape such as `"\ude00"` is valid
/// JSON that a client may send in a field Switchyard forwards unread, but no `Value`.)
pub fn json(what: &str, bytes: &[u8]) -> Option<Value> {
    if let Err(e) = serde_json::from_slice::<IgnoredAny>(bytes) {
        panic!(
            "{what} is not valid JSON ({e}): {}",
            String::from_utf8_lossy(bytes)
        );
    }
    serde_json::from_slice(bytes).ok()
}

/// Panics unless `bytes` is a JSON object; returns its members when serde_json can hold them.
pub fn json_object(what: &str, bytes: &[u8]) -> Option<Map<String, Value>> {
    let value = json(what, bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    assert!(
        first == Some(&b'{'),
        "{what} is JSON but not an object: {}",
        String::from_utf8_lossy(bytes)
    );
    match value {
        Some(Value::Object(members)) => Some(members),
        _ => None,
    }
}

/// Frames `bytes` as an SSE stream the way the gateway reads an upstream: every complete
/// event, then the unterminated tail at the end of the stream.
pub fn sse_events(bytes: &[u8]) -> Vec<SseEvent> {
    let mut framer = SseFramer::new();
    let mut out = Vec::new();
    framer.push(bytes, &mut out);
    out.extend(framer.finish());
    out
}

/// Panics unless every frame in `frames` (each `event: <type>\ndata: <json>\n\n`) is one SSE
/// event whose data is a JSON object, with `event` equal to the object's `type`.
pub fn check_anthropic_frames(frames: &[String]) {
    for frame in frames {
        let events = sse_events(frame.as_bytes());
        assert_eq!(
            events.len(),
            1,
            "one frame must be one SSE event: {frame:?}"
        );
        let Some(data) = json_object("an Anthropic stream event", events[0].data.as_bytes()) else {
            continue;
        };
        let kind = data.get("type").and_then(Value::as_str);
        assert_eq!(
            events[0].event.as_deref(),
            kind,
            "the SSE event name must equal the payload's type: {frame:?}"
        );
    }
}
