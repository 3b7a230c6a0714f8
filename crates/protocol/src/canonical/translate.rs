//! The two halves of a streaming translation and the one type that joins them.
//!
//! A [`Read`] turns one upstream SSE event's `data` into canonical [`StreamEvent`]s; a
//! [`Render`] turns each event into the client dialect's output items as it comes. A
//! [`Translator`] feeds one into the other event by event, so a stream from any upstream
//! dialect reaches any client dialect in one pass, never through a third dialect and never
//! buffered beyond the events of the upstream event being read.
//!
//! Must never know HTTP or which provider serves the route.

use super::event::StreamEvent;
use switchyard_primitives::TokenUsage;

/// Reads an upstream dialect's stream into canonical events, upholding the invariants of
/// [`super::event`].
pub trait Read: Send + 'static {
    /// Reads one SSE event's `data`, appending what it means to `out`. Data that is not a
    /// valid event of the dialect becomes an [`StreamEvent::Error`] that ends the stream.
    fn read(&mut self, data: &str, out: &mut Vec<StreamEvent>);
    /// The upstream said its stream is over (a finish, its stop event, or an error).
    fn is_done(&self) -> bool;
}

/// Renders canonical events in a client dialect, incrementally.
pub trait Render: Send + 'static {
    /// One event's output items (OpenAI: chunk payloads; Anthropic: whole SSE frames).
    fn render(&mut self, ev: StreamEvent, out: &mut Vec<String>);
    /// The upstream event that produced the last events has been read: write anything held
    /// back to join events of that one upstream event (OpenAI writes a tool call's start and
    /// its arguments as one chunk when they arrive together).
    fn flush(&mut self, out: &mut Vec<String>);
    /// The stream is over: write the dialect's closing items (usage chunk, `message_stop`).
    /// Idempotent; nothing after an error.
    fn end(&mut self, out: &mut Vec<String>);
    /// The upstream's stream ended without saying it was done (no finish, stop event or
    /// error): write what the dialect's clients need to see the stream end. Only called
    /// before [`end`](Self::end).
    fn cut(&mut self, out: &mut Vec<String>);
    /// Frames one output item as SSE bytes.
    fn frame(item: &str, out: &mut Vec<u8>);
    /// The frame that ends the stream after [`end`](Self::end), if the dialect has one.
    const DONE: Option<&'static [u8]> = None;
}

/// What a renderer reports and when: shared by the renderers of every client dialect.
#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    /// The Unix time every OpenAI chunk reports as `created`.
    pub created: u64,
    /// OpenAI clients that asked for `stream_options.include_usage`: end with a usage-only
    /// chunk.
    pub include_usage: bool,
    /// The model name to report; the upstream's when `None`.
    pub model: Option<String>,
}

/// A reader joined to a renderer: upstream dialect in, client dialect out.
#[derive(Debug)]
pub struct Translator<R, W> {
    reader: R,
    writer: W,
    events: Vec<StreamEvent>,
    usage: TokenUsage,
    done: bool,
}

impl<R: Read, W: Render> Translator<R, W> {
    /// Feeds `reader`'s events to `writer`.
    pub fn join(reader: R, writer: W) -> Self {
        Translator {
            reader,
            writer,
            events: Vec::new(),
            usage: TokenUsage::default(),
            done: false,
        }
    }

    /// The usage reported so far; final once [`is_done`](Self::is_done).
    pub fn usage(&self) -> TokenUsage {
        self.usage
    }

    /// The upstream's stream is over and the renderer has written its end.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Translates one upstream event's `data` into the client dialect's output items.
    pub fn push_data(&mut self, data: &str) -> Vec<String> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        self.reader.read(data, &mut self.events);
        for ev in self.events.drain(..) {
            if let StreamEvent::Usage(u) = &ev {
                self.usage = *u;
            }
            self.writer.render(ev, &mut out);
        }
        self.writer.flush(&mut out);
        if self.reader.is_done() {
            self.done = true;
            self.writer.end(&mut out);
        }
        out
    }

    /// The upstream's stream ended: if it never said it was done, the renderer closes it in
    /// its dialect's way ([`Render::cut`]); the closing items. Idempotent.
    pub fn finish(&mut self) -> Vec<String> {
        let mut items = Vec::new();
        if !self.done {
            self.done = true;
            self.writer.cut(&mut items);
        }
        items
    }

    /// [`finish`](Self::finish), framed as SSE bytes.
    pub fn finish_framed(&mut self, out: &mut Vec<u8>) {
        for item in self.finish() {
            W::frame(&item, out);
        }
    }

    /// Appends one upstream event's translation to `out` as SSE bytes, the dialect's end
    /// frame after the last.
    pub fn push_framed(&mut self, data: &str, out: &mut Vec<u8>) {
        let was_done = self.done;
        for item in self.push_data(data) {
            W::frame(&item, out);
        }
        if self.done && !was_done {
            out.extend_from_slice(W::DONE.unwrap_or_default());
        }
    }
}
