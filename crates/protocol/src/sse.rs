//! Server-Sent Events framing.
//!
//! Upstream bytes arrive in arbitrary pieces; [`SseFramer`] returns whole events as soon as their
//! terminating blank line arrives, so each can be forwarded (or dropped) at once. It buffers at
//! most one partial event — the stream is never held back beyond that.

use bytes::{Bytes, BytesMut};

/// One complete event: its raw bytes (including the terminating blank line) and its `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub raw: Bytes,
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`, as the SSE specification says.
    pub data: String,
}

/// Incremental SSE parser.
#[derive(Debug, Default)]
pub struct SseFramer {
    buf: BytesMut,
    /// Where the search for the next blank line resumes. A blank line is at most 3 bytes, so a
    /// search that found none has ruled out every start but the last 2 bytes; rescanning the
    /// whole partial event on every push would make an event sent in small pieces quadratic.
    scanned: usize,
}

impl SseFramer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; appends every event now complete to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        self.buf.extend_from_slice(chunk);
        while let Some(end) = find_event_end(&self.buf, self.scanned) {
            let raw = self.buf.split_to(end).freeze();
            self.scanned = 0;
            out.push(parse_event(raw));
        }
        self.scanned = self.buf.len().saturating_sub(2);
    }

    /// Whatever is left when the stream ends without a final blank line.
    pub fn finish(&mut self) -> Option<SseEvent> {
        self.scanned = 0;
        if self.buf.iter().all(|b| b.is_ascii_whitespace()) {
            self.buf.clear();
            return None;
        }
        let raw = self.buf.split().freeze();
        Some(parse_event(raw))
    }

    /// Bytes buffered in a partial event.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Index just past the first blank line (`\n\n`, `\r\n\r\n` or `\r\r`) starting at or
/// after `from`, if any.
fn find_event_end(buf: &[u8], from: usize) -> Option<usize> {
    // Jumps from line break to line break (`memchr`): an event's bytes between them are
    // never looked at one by one.
    let mut i = from;
    loop {
        i += memchr::memchr2(b'\n', b'\r', buf.get(i..)?)?;
        match (buf.get(i), buf.get(i + 1), buf.get(i + 2)) {
            (Some(b'\n'), Some(b'\n'), _) => return Some(i + 2),
            (Some(b'\n'), Some(b'\r'), Some(b'\n')) => return Some(i + 3),
            (Some(b'\r'), Some(b'\r'), _) => return Some(i + 2),
            _ => {}
        }
        i += 1;
    }
}

/// Splits the event into lines on the bytes (`\n`, `\r`): no UTF-8 pass over the whole event
/// and no char-pattern search, which cost ~150k instructions an event in a debug build.
/// Splitting at ASCII bytes first and then decoding each value loses nothing: an invalid UTF-8
/// sequence never contains `\n` or `\r`.
fn parse_event(raw: Bytes) -> SseEvent {
    let mut event = None;
    let mut data = String::new();
    let mut first = true;
    for line in lines(&raw) {
        if line.first().is_none_or(|&b| b == b':') {
            continue;
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                if !first {
                    data.push('\n');
                }
                data.push_str(&String::from_utf8_lossy(value));
                first = false;
            }
            b"event" => event = Some(String::from_utf8_lossy(value).into_owned()),
            _ => {}
        }
    }
    SseEvent { raw, event, data }
}

/// The lines of `raw`, split at every `\n` and `\r` (so `\r\n` yields an empty line between,
/// which no field reads).
fn lines(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(raw);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memchr2(b'\n', b'\r', r) {
            Some(i) => {
                rest = r.get(i + 1..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_are_reassembled() {
        let mut f = SseFramer::new();
        let mut out = Vec::new();
        f.push(b"data: {\"a\"", &mut out);
        assert!(out.is_empty());
        f.push(b":1}\n\ndata: [DONE]\n", &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data, "{\"a\":1}");
        f.push(b"\n", &mut out);
        assert_eq!(out[1].data, "[DONE]");
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn crlf_event_names_and_multiline_data() {
        let mut f = SseFramer::new();
        let mut out = Vec::new();
        f.push(
            b"event: message_start\r\ndata: x\r\ndata: y\r\n\r\n: comment\n\n",
            &mut out,
        );
        assert_eq!(out[0].event.as_deref(), Some("message_start"));
        assert_eq!(out[0].data, "x\ny");
        assert_eq!(out[1].data, "");
    }

    #[test]
    fn framing_an_event_sent_byte_by_byte_takes_linear_time() {
        // 128 KiB fed one byte at a time: rescanning the partial event on every push costs
        // ~8.6e9 byte checks (tens of seconds even optimised); one scan costs milliseconds.
        let mut body = b"data: ".to_vec();
        body.resize(128 * 1024, b'x');
        body.extend_from_slice(b"\r\n\r\n");
        let mut f = SseFramer::new();
        let mut out = Vec::new();
        let started = std::time::Instant::now();
        for b in body.chunks(1) {
            f.push(b, &mut out);
        }
        let took = started.elapsed();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data.len(), 128 * 1024 - 6);
        assert!(took < std::time::Duration::from_secs(2), "took {took:?}");
    }

    #[test]
    fn a_blank_line_split_across_pushes_still_ends_the_event() {
        for body in [
            &b"data: a\r\n\r\n"[..],
            b"data: a\n\n",
            b"data: a\r\r",
            b"data: a\n\r\n",
        ] {
            for cut in 0..=body.len() {
                let mut f = SseFramer::new();
                let mut out = Vec::new();
                f.push(&body[..cut], &mut out);
                f.push(&body[cut..], &mut out);
                assert_eq!(out.len(), 1, "{body:?} cut at {cut}");
                assert_eq!(out[0].data, "a");
                assert_eq!(f.pending(), 0);
            }
        }
    }

    #[test]
    fn unterminated_tail_is_returned_on_finish() {
        let mut f = SseFramer::new();
        let mut out = Vec::new();
        f.push(b"data: tail", &mut out);
        assert!(out.is_empty());
        assert_eq!(f.finish().map(|e| e.data), Some("tail".to_string()));
        assert_eq!(f.finish(), None);
    }

    #[test]
    fn invalid_utf8_in_data_is_replaced_and_fields_without_a_colon_are_names() {
        let mut f = SseFramer::new();
        let mut out = Vec::new();
        f.push(b"data:\xff ok\rdata\nevent:x\n\n", &mut out);
        assert_eq!(out[0].data, "\u{fffd} ok\n");
        assert_eq!(out[0].event.as_deref(), Some("x"));
    }

    /// The framing before it jumped between line breaks: every byte looked at.
    fn reference_events(bytes: &[u8]) -> Vec<(Vec<u8>, Option<String>, String)> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut i = 0;
        let mut push = |raw: &[u8]| {
            let mut event = None;
            let mut data = String::new();
            let mut first = true;
            for line in raw.split(|&b| b == b'\n' || b == b'\r') {
                if line.first().is_none_or(|&b| b == b':') {
                    continue;
                }
                let (field, value) = match line.iter().position(|&b| b == b':') {
                    Some(i) => {
                        let v = &line[i + 1..];
                        (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
                    }
                    None => (line, &b""[..]),
                };
                match field {
                    b"data" => {
                        if !first {
                            data.push('\n');
                        }
                        data.push_str(&String::from_utf8_lossy(value));
                        first = false;
                    }
                    b"event" => event = Some(String::from_utf8_lossy(value).into_owned()),
                    _ => {}
                }
            }
            out.push((raw.to_vec(), event, data));
        };
        while i < bytes.len() {
            let end = match bytes[i] {
                b'\n' if bytes.get(i + 1) == Some(&b'\n') => Some(i + 2),
                b'\n' if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') => {
                    Some(i + 3)
                }
                b'\r' if bytes.get(i + 1) == Some(&b'\r') => Some(i + 2),
                _ => None,
            };
            match end {
                Some(e) => {
                    push(&bytes[start..e]);
                    start = e;
                    i = e;
                }
                None => i += 1,
            }
        }
        if !bytes[start..].iter().all(|b| b.is_ascii_whitespace()) {
            push(&bytes[start..]);
        }
        out
    }

    #[test]
    fn the_fuzz_corpus_frames_as_the_byte_by_byte_framing_did() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        let mut seen = 0;
        for target in ["sse", "streams"] {
            for entry in std::fs::read_dir(dir.join(target)).unwrap() {
                let bytes = std::fs::read(entry.unwrap().path()).unwrap();
                let want = reference_events(&bytes);
                for piece in [1, 7, bytes.len().max(1)] {
                    let mut f = SseFramer::new();
                    let mut got = Vec::new();
                    for chunk in bytes.chunks(piece) {
                        f.push(chunk, &mut got);
                    }
                    got.extend(f.finish());
                    let got: Vec<_> = got
                        .into_iter()
                        .map(|e| (e.raw.to_vec(), e.event, e.data))
                        .collect();
                    assert_eq!(got, want, "pieces of {piece}");
                }
                seen += 1;
            }
        }
        assert!(seen > 5, "the corpus is there ({seen} inputs)");
    }
}
