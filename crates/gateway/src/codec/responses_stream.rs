//! A stream from a target that does not speak the Responses API, rendered as the Responses
//! API's typed events in one pass: the upstream's own dialect (OpenAI chunks, Anthropic
//! events, Gemini chunks, as the adapter marks it) is read into canonical stream events by
//! that dialect's reader and each event rendered at once (`responses::translate`), never
//! through a third dialect. The rendered frames are then teed like a Responses target's own
//! stream; the canonical usage (which keeps cache writes apart, as the Responses usage shape
//! cannot) is shared with the tee's reader so the ledger prices what the upstream reported.

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use switchyard_primitives::TokenUsage;
use switchyard_protocol::canonical::translate::{Read, Translator};
use switchyard_protocol::openai::to_events::ToEvents;
use switchyard_protocol::responses::Renderer;
use switchyard_protocol::responses::translate::{FromAnthropic, FromGemini, FromOpenAi};
use switchyard_protocol::sse::{SseEvent, SseFramer};
use switchyard_providers::{Dialect, ProviderError};

/// The last canonical usage the upstream reported, shared with the tee's reader.
pub(crate) type SharedUsage = Arc<Mutex<Option<TokenUsage>>>;

/// `inner` (the upstream's bytes, in the dialect the adapter marked: OpenAI chunks unless it
/// says Anthropic or Gemini) as Responses SSE frames; errors pass through for the tee.
pub(crate) fn rendered(
    inner: BoxStream<'static, Result<Bytes, ProviderError>>,
    dialect: Dialect,
    render: Renderer,
    usage: SharedUsage,
) -> BoxStream<'static, Result<Bytes, ProviderError>> {
    match dialect {
        Dialect::Anthropic => {
            let tr = FromAnthropic::join(Default::default(), render);
            Rendering::new(inner, tr, usage).boxed()
        }
        Dialect::Gemini => {
            let tr = FromGemini::join(Default::default(), render);
            Rendering::new(inner, tr, usage).boxed()
        }
        Dialect::OpenAi | Dialect::Responses => {
            let tr = FromOpenAi::join(ToEvents::new(), render);
            Rendering::new(inner, tr, usage).boxed()
        }
    }
}

struct Rendering<R> {
    inner: BoxStream<'static, Result<Bytes, ProviderError>>,
    framer: SseFramer,
    scratch: Vec<SseEvent>,
    tr: Translator<R, Renderer>,
    usage: SharedUsage,
    ended: bool,
}

impl<R: Read> Rendering<R> {
    fn new(
        inner: BoxStream<'static, Result<Bytes, ProviderError>>,
        tr: Translator<R, Renderer>,
        usage: SharedUsage,
    ) -> Self {
        Rendering {
            inner,
            framer: SseFramer::new(),
            scratch: Vec::new(),
            tr,
            usage,
            ended: false,
        }
    }

    /// The frames for one chunk of upstream bytes.
    fn chunk(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.framer.push(chunk, &mut self.scratch);
        let mut out = Vec::new();
        for ev in self.scratch.drain(..) {
            self.tr.push_framed(&ev.data, &mut out);
        }
        self.share_usage();
        out
    }

    fn share_usage(&self) {
        let u = self.tr.usage();
        if u != TokenUsage::default()
            && let Ok(mut shared) = self.usage.lock()
        {
            *shared = Some(u);
        }
    }
}

impl<R: Read + Unpin> Stream for Rendering<R> {
    type Item = Result<Bytes, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            let out = match this.inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => this.chunk(&chunk),
                Poll::Ready(Some(Err(e))) => {
                    this.ended = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.ended = true;
                    let mut out = Vec::new();
                    this.tr.finish_framed(&mut out);
                    out
                }
            };
            if !out.is_empty() {
                return Poll::Ready(Some(Ok(Bytes::from(out))));
            }
        }
    }
}
