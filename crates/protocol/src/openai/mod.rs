//! The OpenAI dialect: Chat Completions and Embeddings, requests and responses.

mod chat;
mod checks;
mod embeddings;
mod error;
mod message_checks;
pub(crate) mod raw;
mod response;
pub mod to_events;
mod tools;

pub use chat::{ChatRequest, Content, Message, Part, Role, UpstreamBody};
pub(crate) use checks::{Stop, stop};
pub use embeddings::{EmbeddingRequest, encode_vector};
pub use error::{ErrorBody, ErrorDetail};
pub(crate) use message_checks::ImageUrl;
pub(crate) use message_checks::ToolCall;
pub use raw::RawObject;
pub use response::{
    ChunkDelta, ChunkView, Usage, chunk_may_report_usage, completion_text, usage_of,
};
pub use tools::CacheControl;
pub(crate) use tools::{NamedFunction, ResponseFormat, Tool, ToolChoice};
