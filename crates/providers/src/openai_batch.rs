//! OpenAI's Batch API for an `openai` provider: `POST /v1/files` (multipart, `purpose=batch`),
//! `POST /v1/batches`, `GET /v1/batches/{id}`, `GET /v1/files/{id}/content`, with the
//! provider's own key and headers. Every failure is a classified [`ProviderError`] whose
//! message never holds the key.

use crate::batch::{BatchApi, BatchFuture, UpstreamBatch};
use crate::common::error_message;
use crate::{OpenAiCompatible, ProviderError};
use bytes::Bytes;
use http::Request;
use http::header::CONTENT_TYPE;
use http_body_util::Full;
use serde_json::{Value, json};

/// The form boundary. The JSONL sent is serialised JSON, which holds no raw CR, so the
/// delimiter (CRLF `--` boundary) cannot occur inside it.
const BOUNDARY: &str = "switchyard-batch-boundary-5f1c";

impl OpenAiCompatible {
    fn batch_url(&self, path: &str) -> String {
        format!("{}/{path}", self.s.base_url.trim_end_matches('/'))
    }

    /// One request with the provider's headers; the body of a 2xx, else a classified error.
    async fn batch_call(
        &self,
        req: http::request::Builder,
        body: Bytes,
    ) -> Result<Bytes, ProviderError> {
        let mut req = req
            .body(Full::new(body))
            .map_err(|e| self.connect(e.to_string()))?;
        for (k, v) in &self.headers {
            req.headers_mut().insert(k.clone(), v.clone());
        }
        let r = tokio::time::timeout(self.s.timeout, self.client.fetch(req))
            .await
            .map_err(|_| ProviderError::Timeout {
                provider: self.s.name.clone(),
                after: self.s.timeout,
            })?
            .map_err(|e| self.connect(e))?;
        if (200..300).contains(&r.status) {
            return Ok(r.body);
        }
        Err(ProviderError::Status {
            provider: self.s.name.clone(),
            status: r.status,
            retry_after: crate::openai::retry_after(&r.headers),
            message: error_message(&r.body, self.s.api_key.as_ref()),
            body: r.body,
        })
    }

    fn connect(&self, message: String) -> ProviderError {
        ProviderError::Connect {
            provider: self.s.name.clone(),
            message,
        }
    }

    fn json_of(&self, body: &[u8]) -> Result<Value, ProviderError> {
        serde_json::from_slice(body).map_err(|e| ProviderError::Stream {
            provider: self.s.name.clone(),
            message: format!("the batch API answered something that is not JSON: {e}"),
        })
    }

    async fn submit_inner(&self, endpoint: &str, jsonl: Vec<u8>) -> Result<String, ProviderError> {
        let mut form = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"switchyard.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n").into_bytes();
        form.extend_from_slice(&jsonl);
        form.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let upload = Request::post(self.batch_url("files")).header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary=\"{BOUNDARY}\""),
        );
        let file = self.json_of(&self.batch_call(upload, Bytes::from(form)).await?)?;
        let file_id = file["id"].as_str().unwrap_or_default();
        let create =
            json!({"input_file_id": file_id, "endpoint": endpoint, "completion_window": "24h"});
        let req = Request::post(self.batch_url("batches")).header(CONTENT_TYPE, "application/json");
        let batch = self.json_of(
            &self
                .batch_call(req, Bytes::from(create.to_string()))
                .await?,
        )?;
        match batch["id"].as_str() {
            Some(id) => Ok(id.to_string()),
            None => Err(ProviderError::Stream {
                provider: self.s.name.clone(),
                message: "the batch API answered a batch without an id".into(),
            }),
        }
    }

    async fn poll_inner(&self, id: &str) -> Result<UpstreamBatch, ProviderError> {
        let req = Request::get(self.batch_url(&format!("batches/{id}")));
        let v = self.json_of(&self.batch_call(req, Bytes::new()).await?)?;
        let text = |k: &str| v[k].as_str().map(str::to_string);
        Ok(UpstreamBatch {
            id: id.to_string(),
            status: text("status").unwrap_or_default(),
            output_file_id: text("output_file_id"),
            error_file_id: text("error_file_id"),
        })
    }
}

impl BatchApi for OpenAiCompatible {
    fn submit<'a>(&'a self, endpoint: &'a str, jsonl: Vec<u8>) -> BatchFuture<'a, String> {
        Box::pin(self.submit_inner(endpoint, jsonl))
    }

    fn poll<'a>(&'a self, id: &'a str) -> BatchFuture<'a, UpstreamBatch> {
        Box::pin(self.poll_inner(id))
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BatchFuture<'a, ()> {
        let req = Request::post(self.batch_url(&format!("batches/{id}/cancel")));
        Box::pin(async move { self.batch_call(req, Bytes::new()).await.map(|_| ()) })
    }

    fn download<'a>(&'a self, file_id: &'a str) -> BatchFuture<'a, Bytes> {
        let req = Request::get(self.batch_url(&format!("files/{file_id}/content")));
        Box::pin(self.batch_call(req, Bytes::new()))
    }
}
