//! Providers' native batch APIs, behind [`BatchApi`]: submit a JSONL file of requests, poll the
//! upstream batch, download its output. Only OpenAI's (`/v1/files` + `/v1/batches`) is
//! implemented (`openai_batch.rs`); Anthropic Message Batches and Gemini batch mode are not yet.
//!
//! Knows nothing of routes, prices or the ledger: the batch runner above maps lines to
//! requests and answers to records.

use crate::ProviderError;
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;

pub type BatchFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

/// An upstream batch, as far as Switchyard needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamBatch {
    pub id: String,
    /// The upstream's status name (OpenAI's: `validating`, `in_progress`, `completed`, …).
    pub status: String,
    pub output_file_id: Option<String>,
    pub error_file_id: Option<String>,
}

impl UpstreamBatch {
    /// Whether the upstream batch has ended (answered lines are then in its files).
    pub fn is_done(&self) -> bool {
        matches!(
            self.status.as_str(),
            "completed" | "failed" | "expired" | "cancelled"
        )
    }
}

/// A provider's batch endpoint.
pub trait BatchApi: Send + Sync {
    /// Uploads `jsonl` (lines `{custom_id, method, url, body}` in the provider's dialect) and
    /// creates a batch for `endpoint`; returns the upstream batch id.
    fn submit<'a>(&'a self, endpoint: &'a str, jsonl: Vec<u8>) -> BatchFuture<'a, String>;
    fn poll<'a>(&'a self, id: &'a str) -> BatchFuture<'a, UpstreamBatch>;
    /// A file's content (the output or error file of a finished batch).
    fn download<'a>(&'a self, file_id: &'a str) -> BatchFuture<'a, Bytes>;
    /// Asks the provider to stop the batch; lines it already answered stay in its output.
    fn cancel<'a>(&'a self, id: &'a str) -> BatchFuture<'a, ()>;
}
