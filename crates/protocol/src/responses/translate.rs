//! Each upstream dialect's stream reader joined to the Responses renderer: one pass from
//! Anthropic events, Gemini chunks or OpenAI chunks to the typed Responses events, never
//! through a third dialect (an Anthropic `signature_delta` reaches the reasoning item's
//! `encrypted_content`, which an OpenAI chunk could not carry).
//!
//! The renderer's items are whole SSE frames, so framing copies them; its end and its cut are
//! the same ([`Renderer::finish`]: `response.completed` / `.incomplete` after a finish,
//! `response.failed` for a stream that ended without one).

use super::stream::Renderer;
use crate::canonical::event::StreamEvent;
use crate::canonical::translate::{Render, Translator};
use crate::openai::to_events::ToEvents;
use crate::{anthropic, gemini};

/// An Anthropic upstream's stream for a Responses client.
pub type FromAnthropic = Translator<anthropic::to_events::Reader, Renderer>;
/// A Gemini upstream's stream for a Responses client.
pub type FromGemini = Translator<gemini::to_events::Reader, Renderer>;
/// An OpenAI chat-dialect upstream's stream for a Responses client.
pub type FromOpenAi = Translator<ToEvents, Renderer>;

impl Render for Renderer {
    fn render(&mut self, ev: StreamEvent, out: &mut Vec<String>) {
        out.extend(self.push(ev));
    }

    fn flush(&mut self, _: &mut Vec<String>) {}

    fn end(&mut self, out: &mut Vec<String>) {
        out.extend(self.finish());
    }

    fn cut(&mut self, out: &mut Vec<String>) {
        out.extend(self.finish());
    }

    fn frame(item: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(item.as_bytes());
    }
}
