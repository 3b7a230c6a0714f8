//! OpenAI's Responses API (`POST /v1/responses`): its wire model and the conversions to and from
//! the canonical hub.
//!
//! - [`request`]: the request, parsed once into a [`Request`]: the raw top-level members (for
//!   the lossless passthrough to a target that speaks Responses itself, with only `model`
//!   rewritten) and its canonical [`ChatRequest`](crate::canonical::ChatRequest) (for every
//!   other target), plus what the translation cannot carry ([`Request::untranslatable`]: a
//!   built-in tool, a file part), refused only when a translating target is chosen.
//! - [`items`]: `input` items (messages with input_text / input_image parts, function_call,
//!   function_call_output, reasoning) → canonical turns.
//! - [`response`]: a canonical answer → the Responses `response` object, and the Responses
//!   `usage` object read back (passthrough answers are priced from it).
//! - [`state`]: conversation state in wire terms: input items, a stored conversation spliced
//!   in front of them for `previous_response_id`, output items appended after an answer.
//! - [`stream`]: canonical [`StreamEvent`](crate::canonical::event::StreamEvent)s → the typed
//!   Responses SSE events, each with its `sequence_number`, one input event at a time.
//! - [`translate`]: each upstream dialect's stream reader joined to that renderer, one pass.
//!
//! Must never know HTTP, providers or the store that keeps conversation state: the gateway
//! prepends a stored conversation as canonical turns before the request reaches a target.

pub mod items;
pub mod request;
pub mod response;
pub mod state;
pub mod stream;
pub mod translate;

pub use request::{Request, parse};
pub use response::{Echo, Ids, Usage, render, usage_of};
pub use stream::Renderer;
