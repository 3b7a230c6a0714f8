//! Anthropic Messages stream events on the wire, and the Anthropic upstream → OpenAI client
//! stream translation built from the hub's two halves.
//!
//! [`StreamEvent`] is one parsed event (the passthrough tee reads usage from it).
//! [`ToOpenAi`] is the Anthropic reader (`super::to_events`) joined to the OpenAI chunk
//! renderer (`canonical::to_chunks`): feed it each Anthropic SSE event's `data` as it arrives
//! and forward what it returns at once (nothing is held back). It returns JSON payloads only;
//! the caller frames each as `data: <payload>\n\n` and ends the stream with `data: [DONE]\n\n`
//! once [`Translator::is_done`].

use super::response::{ResponseBlock, Usage};
use super::to_events::Reader;
use crate::canonical::to_chunks::ChunkWriter;
use crate::canonical::translate::Translator;
use serde::Deserialize;

pub use crate::canonical::translate::StreamOptions;

/// One parsed Anthropic stream event. Flat: each event type fills its own fields.
#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "type")]
    pub kind: String,
    /// `message_start`.
    #[serde(default)]
    pub message: Option<StartMessage>,
    /// `content_block_*`: the block's position in the message.
    #[serde(default)]
    pub index: Option<usize>,
    /// `content_block_start`.
    #[serde(default)]
    pub content_block: Option<ResponseBlock>,
    /// `content_block_delta` and `message_delta`.
    #[serde(default)]
    pub delta: Option<Delta>,
    /// `message_delta`: cumulative usage.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// `error`.
    #[serde(default)]
    pub error: Option<StreamError>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StartMessage {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub usage: Usage,
}

#[derive(Debug, Default, Deserialize)]
pub struct Delta {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub partial_json: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
    /// `signature_delta`: the signature sealing the thinking block.
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub stop_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct StreamError {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

impl StreamEvent {
    /// Parses one event's `data`.
    pub fn parse(data: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(data)
    }
}

/// Anthropic upstream → OpenAI client chunks, in one pass through canonical events.
pub type ToOpenAi = Translator<Reader, ChunkWriter>;

impl ToOpenAi {
    pub fn new(opts: StreamOptions) -> Self {
        Translator::join(Reader::default(), ChunkWriter::new(opts))
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
