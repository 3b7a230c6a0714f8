//! Gemini `streamGenerateContent?alt=sse` → OpenAI `chat.completion.chunk` stream, one chunk
//! at a time: the Gemini reader (`super::to_events`) joined to the OpenAI chunk renderer
//! (`canonical::to_chunks`), and → Anthropic Messages events with the Anthropic renderer
//! (`anthropic::from_events`), each in one pass through canonical events.
//!
//! Nothing is held back: the role first, then text, thoughts (as `reasoning_content`) and
//! function calls (each complete in one `tool_calls` delta, with a stable index), then the
//! finish chunk when a `finishReason` arrives, and the usage-only chunk if asked. The caller
//! frames each payload as `data: <payload>\n\n` and ends with `data: [DONE]\n\n` once
//! [`Translator::is_done`] (or uses [`Translator::push_framed`], which does both).

use super::to_events::Reader;
use crate::anthropic::from_events::FrameWriter;
use crate::canonical::to_chunks::ChunkWriter;
use crate::canonical::translate::Translator;

pub use crate::canonical::translate::StreamOptions;

/// Gemini upstream → OpenAI client chunks.
pub type ToOpenAi = Translator<Reader, ChunkWriter>;

impl ToOpenAi {
    pub fn new(opts: StreamOptions) -> Self {
        Translator::join(Reader::default(), ChunkWriter::new(opts))
    }
}

/// Gemini upstream → Anthropic client events: no OpenAI stage in between.
pub type ToAnthropic = Translator<Reader, FrameWriter>;

impl ToAnthropic {
    /// Reports `model` as the model name, or the upstream's `modelVersion` when `None`.
    pub fn new(model: Option<String>) -> Self {
        Translator::join(Reader::default(), FrameWriter::new(model))
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
