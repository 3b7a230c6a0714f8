//! The Anthropic Messages dialect (`POST /v1/messages`): request bodies written from the
//! canonical form, responses and stream events read into it; canonical stream events rendered as its stream
//! (`from_events`), its upstream stream read into them (`to_events`).
//!
//! Knows Anthropic's wire format only; must never know HTTP, headers (`anthropic-version`,
//! `x-api-key`) or which provider serves the route.

pub mod breakpoints;
mod breakpoints_raw;
mod from_canonical;
mod request;
mod response;
pub mod stream;

pub use breakpoints_raw::place_raw;
pub use request::{
    CacheControl, ContentBlock, DEFAULT_MAX_TOKENS, Extra, ImageSource, Message, MessagesRequest,
    Metadata, OutputConfig, OutputFormat, Tool, ToolChoice,
};
pub use response::{MessagesResponse, ResponseBlock, Usage, parse_response, usage_of};

pub mod error;
pub mod from_events;
pub mod from_openai;
pub mod ingress;
pub mod to_events;
pub mod to_openai;
