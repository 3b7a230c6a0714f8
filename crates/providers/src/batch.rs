//! Providers' native batch APIs, behind [`NativeBatch`]: encode one line in the provider's
//! dialect, submit a group of lines as one upstream batch, poll it, read its per-line results
//! back in OpenAI's shape, cancel it. Implemented by OpenAI (`/v1/files` + `/v1/batches`,
//! `openai_batch.rs`), Anthropic (Message Batches, `anthropic_batch.rs`) and Gemini (batch
//! mode with inline requests, `gemini_batch.rs`); an adapter joins by implementing the trait
//! and answering `Provider::native_batch`, so the runner above never matches a provider kind.
//!
//! Knows nothing of routes, prices or the ledger: the batch runner above maps lines to
//! requests and answers to records.

use crate::{HttpClient, ProviderError, ProviderRequest};
use bytes::Bytes;
use http::HeaderMap;
use http_body_util::Full;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use switchyard_primitives::Secret;

pub type BatchFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

/// What a batch's lines ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchEndpoint {
    Chat,
    Embeddings,
}

/// One line for an upstream batch: its key (unique in the batch; the runner uses the line
/// number) and its body as [`NativeBatch::encode`] wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    pub key: String,
    pub body: Vec<u8>,
}

/// An upstream batch, as far as Switchyard needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamBatch {
    pub id: String,
    /// The upstream's status name (OpenAI's `in_progress`, Anthropic's `ended`, Gemini's
    /// `BATCH_STATE_RUNNING`, …), for logs.
    pub status: String,
    /// Whether it has ended: its answered lines are then in its results.
    pub done: bool,
    /// Where the results are: OpenAI's output file id, Anthropic's `results_url`; `None` when
    /// they come with the batch itself (Gemini) or there are none.
    pub results: Option<String>,
}

/// What the upstream did with one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineResult {
    /// A 2xx answer, its body in OpenAI's shape (a chat completion or an embeddings list).
    Answered { status: u16, body: Bytes },
    /// Errored, cancelled, expired or not understood: the upstream's reason, for the log.
    Failed { reason: String },
}

/// A provider's native batch API.
pub trait NativeBatch: Send + Sync {
    /// The upstream body of one line, translated as a live call would be; an error means the
    /// line cannot go this way (it then runs through the pipeline).
    fn encode(&self, req: &ProviderRequest<'_>) -> Result<Vec<u8>, ProviderError>;
    /// Creates one upstream batch of `items`, all for `model`; returns its id.
    fn submit<'a>(
        &'a self,
        endpoint: BatchEndpoint,
        model: &'a str,
        items: Vec<BatchItem>,
    ) -> BatchFuture<'a, String>;
    fn poll<'a>(&'a self, id: &'a str) -> BatchFuture<'a, UpstreamBatch>;
    /// Each line's result of an ended batch, by item key.
    fn results<'a>(
        &'a self,
        batch: &'a UpstreamBatch,
    ) -> BatchFuture<'a, Vec<(String, LineResult)>>;
    /// Asks the provider to stop the batch; lines it already answered stay in its results.
    fn cancel<'a>(&'a self, id: &'a str) -> BatchFuture<'a, ()>;
}

/// How an adapter reaches its batch endpoints: its pool, fixed headers (key included), name
/// and timeout, and the key to scrub from error messages.
pub(crate) struct Exchange<'a> {
    pub client: &'a HttpClient,
    pub headers: &'a HeaderMap,
    pub provider: &'a str,
    pub timeout: Duration,
    pub key: Option<&'a Secret>,
}

impl Exchange<'_> {
    /// One request with the provider's headers; the body of a 2xx, else a classified error
    /// whose message never holds the key.
    pub async fn call(
        &self,
        req: http::request::Builder,
        body: Bytes,
    ) -> Result<Bytes, ProviderError> {
        let mut req = req
            .body(Full::new(body))
            .map_err(|e| self.connect(e.to_string()))?;
        // The request's own headers (a multipart content type) win over the fixed ones.
        let own: Vec<_> = req.headers().keys().cloned().collect();
        for (k, v) in self.headers {
            if !own.contains(k) {
                req.headers_mut().append(k.clone(), v.clone());
            }
        }
        let r = tokio::time::timeout(self.timeout, self.client.fetch(req))
            .await
            .map_err(|_| ProviderError::Timeout {
                provider: self.provider.to_string(),
                after: self.timeout,
            })?
            .map_err(|e| self.connect(e))?;
        if (200..300).contains(&r.status) {
            return Ok(r.body);
        }
        Err(ProviderError::Status {
            provider: self.provider.to_string(),
            status: r.status,
            retry_after: crate::openai::retry_after(&r.headers),
            message: crate::common::error_message(&r.body, self.key),
            body: r.body,
        })
    }

    /// [`Exchange::call`], its answer parsed as JSON.
    pub async fn json(
        &self,
        req: http::request::Builder,
        body: Bytes,
    ) -> Result<serde_json::Value, ProviderError> {
        let bytes = self.call(req, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| self.invalid(format!("not JSON: {e}")))
    }

    fn connect(&self, message: String) -> ProviderError {
        ProviderError::Connect {
            provider: self.provider.to_string(),
            message,
        }
    }

    /// The batch API answered something this adapter cannot read.
    pub fn invalid(&self, what: String) -> ProviderError {
        ProviderError::Stream {
            provider: self.provider.to_string(),
            message: format!("the batch API answered something unexpected: {what}"),
        }
    }
}

/// `id` if it can go into a URL path as it is (letters, digits, `_`, `-`): an upstream id is
/// stored and sent back later, so it must not be able to reach another path.
pub(crate) fn path_id<'a>(provider: &str, id: &'a str) -> Result<&'a str, ProviderError> {
    let fits = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if fits {
        Ok(id)
    } else {
        Err(ProviderError::Unsupported {
            provider: provider.to_string(),
            message: format!("{id:?} is not a batch id this adapter sends back"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::path_id;

    #[test]
    fn a_batch_id_that_could_reach_another_path_is_refused() {
        assert_eq!(path_id("p", "msgbatch_01-Ab").ok(), Some("msgbatch_01-Ab"));
        for bad in ["", "../files", "a/b", "a?b", "a%2fb"] {
            assert!(path_id("p", bad).is_err(), "{bad}");
        }
    }
}
