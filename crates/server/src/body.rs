//! Request bodies: the deadline a body must arrive by ([`Timed`]), and reading one whole
//! under the size limit ([`read`]), which drains a bounded amount of an oversized body so the
//! client can read the 413 instead of meeting a reset connection.

use axum::body::Body;
use axum::http::HeaderMap;
use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use switchyard_gateway::GatewayError;
use switchyard_protocol::FieldError;

/// How much of an oversized body is read and discarded before the 413, at most. Clients such
/// as Python's `requests` write the whole body before reading; closing with unread data
/// resets the connection and they never see the answer.
pub const DRAIN_BYTES: usize = 32 * 1024 * 1024;
/// How long that draining may take, at most.
pub const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The error a [`Timed`] body yields once its deadline passes.
#[derive(Debug)]
pub struct TimedOut(pub Duration);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body did not arrive within {:?}", self.0)
    }
}

impl std::error::Error for TimedOut {}

/// A request body that fails with [`TimedOut`] if it is not complete within `after` of the
/// request's head, so a client trickling its body cannot hold a request open.
pub struct Timed<B> {
    inner: B,
    after: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl<B> Timed<B> {
    pub fn new(inner: B, after: Duration) -> Self {
        Timed {
            inner,
            after,
            deadline: Box::pin(tokio::time::sleep(after)),
        }
    }
}

impl<B> http_body::Body for Timed<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(TimedOut(self.after))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The whole body, or 413 past `limit` (an oversized `Content-Length` is refused without
/// buffering), or 408 when the body is too slow.
pub async fn read(
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
) -> Result<Bytes, GatewayError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        // A client that asked `Expect: 100-continue` has not sent the body and will not:
        // reading it would tell hyper to invite the upload.
        if !expects_continue(headers) {
            drain(body, DRAIN_BYTES).await;
        }
        return Err(GatewayError::BodyTooLarge { limit });
    }
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(read_error)?.into_data() else {
            continue;
        };
        if buf.len() + data.len() > limit {
            drain(body, DRAIN_BYTES.saturating_sub(buf.len() + data.len())).await;
            return Err(GatewayError::BodyTooLarge { limit });
        }
        buf.extend_from_slice(&data);
    }
    Ok(buf.freeze())
}

fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}

/// Reads and discards up to `max` bytes of `body` within [`DRAIN_TIME`].
async fn drain(mut body: Body, max: usize) {
    let mut seen = 0usize;
    let discard = async {
        while seen <= max {
            match body.frame().await {
                Some(Ok(frame)) => seen += frame.data_ref().map_or(0, Bytes::len),
                _ => return,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, discard).await;
}

fn read_error(e: axum::Error) -> GatewayError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if let Some(TimedOut(after)) = c.downcast_ref::<TimedOut>() {
            return GatewayError::BodyTimeout { after: *after };
        }
        cause = c.source();
    }
    GatewayError::InvalidRequest(FieldError::body(format!(
        "Could not read the request body: {e}. Send a complete body matching its Content-Length or chunked framing."
    )))
}
