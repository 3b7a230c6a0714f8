//! A stream from a target that does not speak the Responses API, rendered as the Responses
//! API's typed events in one pass: the upstream's own dialect (OpenAI chunks, Anthropic
//! events, Gemini chunks, as the adapter marks it) is read into canonical stream events by
//! that dialect's reader and each event rendered at once (`responses::Renderer`), never
//! through a third dialect. The rendered frames are then teed like a Responses target's own
//! stream; the canonical usage (which keeps cache writes apart, as the Responses usage shape
//! cannot) is shared with the tee's reader so the ledger prices what the upstream reported.

use bytes::{Bytes, BytesMut};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use switchyard_primitives::TokenUsage;
use switchyard_protocol::canonical::event::StreamEvent;
use switchyard_protocol::canonical::translate::Read;
use switchyard_protocol::openai::to_events::ToEvents;
use switchyard_protocol::responses::Renderer;
use switchyard_protocol::sse::{SseEvent, SseFramer};
use switchyard_protocol::{anthropic, gemini};
use switchyard_providers::{Dialect, ProviderError};

/// The last canonical usage the upstream reported, shared with the tee's reader.
pub(crate) type SharedUsage = Arc<Mutex<Option<TokenUsage>>>;

/// The reader of the upstream's dialect.
pub(crate) enum Upstream {
    OpenAi(ToEvents),
    Anthropic(anthropic::to_events::Reader),
    Gemini(gemini::to_events::Reader),
}

impl Upstream {
    /// The reader for an answer the adapter marked `dialect` (OpenAI chunks unless it says
    /// Anthropic or Gemini).
    pub(crate) fn of(dialect: Dialect) -> Self {
        match dialect {
            Dialect::Anthropic => Upstream::Anthropic(Default::default()),
            Dialect::Gemini => Upstream::Gemini(Default::default()),
            Dialect::OpenAi | Dialect::Responses => Upstream::OpenAi(ToEvents::new()),
        }
    }

    fn read(&mut self, data: &str, out: &mut Vec<StreamEvent>) {
        match self {
            Upstream::OpenAi(r) => out.extend(r.push_data(data)),
            Upstream::Anthropic(r) => r.read(data, out),
            Upstream::Gemini(r) => r.read(data, out),
        }
    }
}

/// `inner` (the upstream's bytes) as Responses SSE frames; errors pass through for the tee.
pub(crate) fn rendered(
    inner: BoxStream<'static, Result<Bytes, ProviderError>>,
    read: Upstream,
    render: Renderer,
    usage: SharedUsage,
) -> BoxStream<'static, Result<Bytes, ProviderError>> {
    Rendering {
        inner,
        framer: SseFramer::new(),
        scratch: Vec::new(),
        events: Vec::new(),
        read,
        render,
        usage,
        ended: false,
    }
    .boxed()
}

struct Rendering {
    inner: BoxStream<'static, Result<Bytes, ProviderError>>,
    framer: SseFramer,
    scratch: Vec<SseEvent>,
    events: Vec<StreamEvent>,
    read: Upstream,
    render: Renderer,
    usage: SharedUsage,
    ended: bool,
}

impl Rendering {
    /// The frames for one chunk of upstream bytes.
    fn chunk(&mut self, chunk: &[u8]) -> Vec<String> {
        self.framer.push(chunk, &mut self.scratch);
        let mut frames = Vec::new();
        for ev in self.scratch.drain(..) {
            self.read.read(&ev.data, &mut self.events);
            for e in self.events.drain(..) {
                if let StreamEvent::Usage(u) = &e
                    && let Ok(mut shared) = self.usage.lock()
                {
                    *shared = Some(*u);
                }
                frames.extend(self.render.push(e));
            }
        }
        frames
    }
}

impl Stream for Rendering {
    type Item = Result<Bytes, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            let frames = match this.inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => this.chunk(&chunk),
                Poll::Ready(Some(Err(e))) => {
                    this.ended = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.ended = true;
                    this.render.finish()
                }
            };
            if !frames.is_empty() {
                let mut out = BytesMut::new();
                for f in frames {
                    out.extend_from_slice(f.as_bytes());
                }
                return Poll::Ready(Some(Ok(out.freeze())));
            }
        }
    }
}
