//! What the exact cache's key reads of a request's conversation: the canonical request's
//! system prompt and turns, or a plain OpenAI conversation read in place from the parsed
//! request ([`Talk::Plain`], filled by `codec/openai_plain.rs`), which `key.rs` encodes with
//! the same bytes. Must never know dialects' wire formats.

use serde_json::value::RawValue;
use switchyard_protocol::canonical::{Block, ChatRequest, Turn};

/// The system prompt and turns the key reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Talk<'a> {
    /// The canonical request's.
    Canonical {
        system: &'a [Block],
        messages: &'a [Turn],
    },
    /// A text-only conversation read in place from the client's request, so no canonical
    /// copy of the prompt is made for the key: encoded byte for byte as the canonical
    /// conversion of the same messages is (a system or developer message's text is a system
    /// block wherever it stands; a message without content has no block).
    Plain(&'a [PlainTurn<'a>]),
}

impl<'a> Talk<'a> {
    /// The canonical request's own system prompt and turns.
    pub(crate) fn of(r: &'a ChatRequest) -> Self {
        Talk::Canonical {
            system: &r.system,
            messages: &r.messages,
        }
    }
}

/// A request keyed without its canonical conversion: the members other than the
/// conversation, as a canonical request with no system prompt or turns, the conversation read
/// in place, and OpenAI's `seed`.
#[derive(Debug)]
pub(crate) struct Plain<'r> {
    pub rest: ChatRequest,
    pub turns: Vec<PlainTurn<'r>>,
    pub seed: Option<&'r RawValue>,
}

/// One message of a [`Talk::Plain`] conversation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlainTurn<'a> {
    pub role: PlainRole,
    pub text: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlainRole {
    /// `system` or `developer`.
    System,
    User,
    Assistant,
}
