//! Fuzzes SSE framing ([`SseFramer`]), which splits every upstream stream into events.
//!
//! The first two input bytes choose where the rest is cut into three pieces. Feeding the
//! pieces one by one must give exactly the events that feeding the whole gives (framing does
//! not depend on how the bytes arrive), the events' raw bytes must add up to the input (less trailing whitespace), and
//! after `finish` nothing stays buffered. Feeding byte by byte must give the same events too,
//! so a stream that arrives in tiny pieces costs linear, not quadratic, time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_protocol::sse::{SseEvent, SseFramer};

fuzz_target!(|input: &[u8]| {
    let (cuts, bytes) = match input {
        [a, b, rest @ ..] => ((*a as usize, *b as usize), rest),
        _ => return,
    };
    let whole = feed(&[bytes]);
    let raw: Vec<u8> = whole.iter().flat_map(|e| e.raw.iter().copied()).collect();
    assert!(
        bytes.starts_with(&raw),
        "the events' raw bytes are the input, in order"
    );
    assert!(
        bytes[raw.len()..].iter().all(u8::is_ascii_whitespace),
        "only trailing whitespace is dropped"
    );
    let n = bytes.len();
    let (i, j) = (cuts.0 * n / 256, cuts.1 * n / 256);
    let (i, j) = (i.min(j), i.max(j));
    let pieces = feed(&[&bytes[..i], &bytes[i..j], &bytes[j..]]);
    assert_eq!(pieces, whole, "framing depends on how the bytes were split");
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(feed(&singles), whole, "byte-by-byte framing differs");
});

fn feed(pieces: &[&[u8]]) -> Vec<SseEvent> {
    let mut framer = SseFramer::new();
    let mut out = Vec::new();
    for p in pieces {
        framer.push(p, &mut out);
    }
    out.extend(framer.finish());
    assert_eq!(framer.pending(), 0, "finish leaves nothing buffered");
    out
}
