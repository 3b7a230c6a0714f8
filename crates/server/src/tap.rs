//! The socket as hyper sees it, with two duties hyper cannot be configured to do.
//!
//! - Reads tell the connection's [`Phase`] that a request head has started, which starts
//!   the header timeout for a keep-alive connection.
//! - hyper answers a request head it cannot parse (control characters in a header, a target
//!   over 64 KiB, a head over [`MAX_HEADER_BYTES`](crate::conn::MAX_HEADER_BYTES) or 100
//!   fields) by itself, with 400, 414 or 431 and an empty body, before any handler runs.
//!   The tap recognises those answers — written while no request is in the service, and
//!   without the `server: switchyard` header every answer of ours carries — and writes in
//!   their place the same status with a JSON body in the dialect of the path on the request
//!   line, and `Connection: close` (hyper closes the connection after such an error).

use crate::conn::Phase;
use crate::edge::{Dialect, error_json};
use axum::http::StatusCode;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tokio::net::TcpStream;

/// The `Server` header value on every answer of ours.
pub const SERVER_NAME: &str = "switchyard";
/// How the `Server` header of our answers appears on the wire (hyper writes names lower-case).
const OUR_HEADER: &[u8] = b"\r\nserver: switchyard\r\n";
/// How much of a request head is kept to find its path.
const HEAD_PREFIX: usize = 512;
/// The most one read of a head takes from the socket.
const SCRATCH_BYTES: usize = 8192;

pub struct Tap {
    inner: TokioIo<TcpStream>,
    phase: Arc<Phase>,
    /// The first bytes of the request head being read.
    head: Vec<u8>,
    /// Where a head is read before it is copied out to hyper: allocated and zeroed once per
    /// connection (a fresh zeroed 8 KiB array per read cost ~24k instructions a request).
    scratch: Vec<u8>,
    /// Our answer in place of hyper's, and how much of it is written.
    replacement: Option<(Vec<u8>, usize)>,
}

impl Tap {
    pub fn new(stream: TcpStream, phase: Arc<Phase>) -> Tap {
        Tap {
            inner: TokioIo::new(stream),
            phase,
            head: Vec::new(),
            scratch: Vec::new(),
            replacement: None,
        }
    }

    /// Whether `buf` (the start of a write) is hyper's own bodiless error answer.
    fn is_hyper_answer(&self, buf: &[u8]) -> bool {
        if self.replacement.is_some() {
            return true;
        }
        // The cheap test first: most writes do not start with an error status line.
        let status = matches!(
            buf.get(..13),
            Some(b"HTTP/1.1 400 " | b"HTTP/1.1 414 " | b"HTTP/1.1 431 ")
        );
        if !status || !self.phase.awaiting_head() {
            return false;
        }
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            return false;
        };
        let head = &buf[..end + 2];
        contains(head, b"\r\ncontent-length: 0\r\n") && !contains(head, OUR_HEADER)
    }

    /// Takes the place of hyper's answer `buf` with ours.
    fn replace(&mut self, buf: &[u8]) {
        if self.replacement.is_some() {
            return;
        }
        let code = std::str::from_utf8(&buf[9..12])
            .ok()
            .and_then(|c| c.parse::<u16>().ok())
            .and_then(|c| StatusCode::from_u16(c).ok())
            .unwrap_or(StatusCode::BAD_REQUEST);
        let body = error_json(dialect_of_head(&self.head), code, message(code));
        let mut out = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nserver: {SERVER_NAME}\r\n\r\n",
            code.as_u16(),
            code.canonical_reason().unwrap_or("Error"),
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(&body);
        self.replacement = Some((out, 0));
    }

    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((out, written)) = self.replacement.as_mut() {
            if *written >= out.len() {
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &out[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The dialect of the path on a request line (`POST /v1/messages HTTP/1.1`).
fn dialect_of_head(head: &[u8]) -> Dialect {
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let path = line
        .split(|b| *b == b' ')
        .nth(1)
        .and_then(|p| std::str::from_utf8(p).ok())
        .unwrap_or("/");
    Dialect::of_path(path)
}

fn message(code: StatusCode) -> &'static str {
    match code.as_u16() {
        414 => {
            "The request target is longer than 65534 bytes. Send the data in the request body instead."
        }
        431 => {
            "The request head (request line and headers) is larger than 65536 bytes or has more than 100 header fields. Send fewer or smaller headers, and data in the request body."
        }
        _ => {
            "The request is not valid HTTP/1.1: its request line or a header is malformed (a control character in a header value, a bad header name, an invalid method, target or version). Fix the request's framing and retry."
        }
    }
}

impl Read for Tap {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.phase.awaiting_head() {
            // A request's body: nothing to look at.
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        // A head: read into a small buffer first so the bytes can be seen, then copy out.
        if this.scratch.is_empty() {
            this.scratch = vec![0u8; SCRATCH_BYTES];
        }
        let want = buf.remaining().min(SCRATCH_BYTES);
        let mut tbuf = tokio::io::ReadBuf::new(&mut this.scratch[..want]);
        ready!(tokio::io::AsyncRead::poll_read(
            Pin::new(this.inner.inner_mut()),
            cx,
            &mut tbuf
        ))?;
        let got = tbuf.filled();
        if !got.is_empty() {
            if let Some(started) = this.phase.on_read() {
                if started {
                    this.head.clear();
                }
                let room = HEAD_PREFIX.saturating_sub(this.head.len());
                this.head.extend_from_slice(&got[..got.len().min(room)]);
            }
        }
        buf.put_slice(got);
        Poll::Ready(Ok(()))
    }
}

impl Write for Tap {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.is_hyper_answer(buf) {
            self.replace(buf);
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty());
        if first.is_some_and(|b| self.is_hyper_answer(b)) {
            if let Some(b) = first {
                self.replace(b);
            }
            return Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_replacement(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_replacement(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_header_spells_the_server_name() {
        assert_eq!(
            OUR_HEADER,
            format!("\r\nserver: {SERVER_NAME}\r\n").as_bytes()
        );
    }

    #[test]
    fn the_dialect_comes_from_the_request_line_path() {
        assert_eq!(
            dialect_of_head(b"POST /v1/messages HTTP/1.1\r\nx: \x01"),
            Dialect::Anthropic
        );
        assert_eq!(
            dialect_of_head(b"GET /v1/chat/completions?x HTTP/1.1\r\n"),
            Dialect::OpenAi
        );
        assert_eq!(dialect_of_head(b"\x16\x03\x01garbage"), Dialect::OpenAi);
    }
}
