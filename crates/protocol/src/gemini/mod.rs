//! The Gemini `generateContent` dialect (`POST /v1beta/models/{model}:generateContent`, and
//! `:streamGenerateContent?alt=sse`): request bodies written from the canonical form,
//! responses read into it, stream chunks read into canonical stream events (`to_events`).
//!
//! Knows Gemini's wire format only; must never know HTTP, the `x-goog-api-key` header, URLs
//! or which provider serves the route. Gemini differs from the other dialects in ways that
//! shape this module: the model name lives in the URL (not the body), tool results are matched
//! to calls by function *name* (Gemini's calls carry no id), a prompt's cached tokens are
//! counted inside `promptTokenCount`, and Gemini 3 signs its function calls: the signature
//! travels to the client inside the tool-call id and back from it (see `signature`).

mod from_canonical;
mod request;
mod response;
mod schema;
mod signature;
pub mod stream;
pub mod to_events;

pub use request::{
    Blob, Content, FileData, FunctionCall, FunctionCallingConfig, FunctionDeclaration,
    FunctionResponse, GenerateContentRequest, GenerationConfig, Part, Tool, ToolConfig,
};
pub use response::{GenerateContentResponse, UsageMetadata, parse_response, stop_reason};
