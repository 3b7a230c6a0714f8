//! The exact cache's key for a plain OpenAI chat request, read from the borrowed wire view
//! instead of from its canonical conversion (which copies the whole prompt): a request whose
//! members are only those listed in [`PLAIN`] and whose messages are system, developer, user
//! or assistant messages with string content (or none) and no tool calls. Anything else
//! (tools, images, `stop`, a member the canonical form keeps as `extra`, …) returns `None`
//! and is keyed from the canonical conversion, so the two paths never disagree on a
//! request's meaning; the unit tests pin that they give the same key.

use crate::cache::key::{Plain, PlainRole, PlainTurn};
use switchyard_protocol::canonical;
use switchyard_protocol::openai::{ChatRequest, Content, Role};

/// Top-level members a plain request may have: the conversation, the sampling members the key
/// reads as numbers, and members the canonical conversion drops or the key ignores.
const PLAIN: &[&str] = &[
    "model",
    "messages",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stream",
    "stream_options",
    "user",
    "safety_identifier",
    "seed",
    "store",
    "service_tier",
    "metadata",
    "prompt_cache_key",
    "verbosity",
];

/// The request keyed in place, or `None` when it is not plain (or a member the canonical
/// conversion decodes is of the wrong type: that path then reports it).
pub(super) fn plain<'r>(req: &'r ChatRequest<'_>) -> Option<Plain<'r>> {
    let raw = req.raw();
    if raw.iter().any(|(k, _)| !PLAIN.contains(&k)) {
        return None;
    }
    for member in ["user", "safety_identifier"] {
        raw.decode::<String>(member).ok()?;
    }
    let mut turns = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        let role = match m.role {
            Role::System | Role::Developer => PlainRole::System,
            Role::User => PlainRole::User,
            Role::Assistant if m.tool_calls.is_none() => PlainRole::Assistant,
            _ => return None,
        };
        let text = match &m.content {
            None => None,
            Some(Content::Text(t)) => Some(t.as_ref()),
            Some(Content::Parts(_)) => return None,
        };
        turns.push(PlainTurn { role, text });
    }
    let rest = canonical::ChatRequest {
        max_tokens: req.max_output_tokens,
        temperature: raw.decode("temperature").ok()?,
        top_p: raw.decode("top_p").ok()?,
        stream: req.stream,
        ..canonical::ChatRequest::default()
    };
    Some(Plain {
        rest,
        turns,
        seed: raw.get("seed"),
    })
}

#[cfg(test)]
#[path = "openai_plain_tests.rs"]
mod tests;
