//! Layer 1: the wire formats Switchyard speaks, with no knowledge of HTTP or providers.
//!
//! - [`openai`]: the OpenAI Chat Completions / Embeddings dialect. Requests are parsed into
//!   borrowed *views* that validate every modelled field and remember every other field as raw
//!   JSON, so a same-dialect hop can re-emit the body losslessly with only `model` (and
//!   `stream_options`) rewritten — no `serde_json::Value` round trip on the hot path.
//! - [`responses`]: OpenAI's Responses API: request → canonical, canonical answer and stream
//!   events → the response object and its typed SSE events.
//! - [`sse`]: Server-Sent Events framing, incremental and allocation-light.
//! - [`Feature`]: what a request used, for the ledger and (later) capability routing.
//! - [`bounded`] and [`check_identifier`]: the rules for client text that is stored or echoed.

pub mod anthropic;
pub mod canonical;
pub mod gemini;
pub mod openai;
pub mod responses;
pub mod sse;

mod feature;
mod field_error;
mod scan;
mod text;

pub use feature::{Feature, FeatureSet};
pub use field_error::FieldError;
pub use text::{MAX_TEXT_BYTES, TRUNCATED, bounded, bounded_to, check_identifier};
