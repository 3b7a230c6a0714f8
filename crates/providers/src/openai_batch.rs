//! OpenAI's Batch API for an `openai` provider: `POST /v1/files` (multipart, `purpose=batch`),
//! `POST /v1/batches`, `GET /v1/batches/{id}`, `GET /v1/files/{id}/content`,
//! `POST /v1/batches/{id}/cancel`, with the provider's own key and headers. A line's body is
//! what a live call sends (the client's, `model` rewritten); its result is the output file's
//! `response.body`, already in OpenAI's shape.

use crate::batch::{BatchEndpoint, BatchFuture, BatchItem, Exchange, LineResult, NativeBatch};
use crate::{OpenAiCompatible, ProviderError, ProviderRequest, UpstreamBatch};
use bytes::Bytes;
use http::Request;
use http::header::CONTENT_TYPE;
use serde_json::{Value, json};

/// The form boundary. The JSONL sent is serialised JSON, which holds no raw CR, so the
/// delimiter (CRLF `--` boundary) cannot occur inside it.
const BOUNDARY: &str = "switchyard-batch-boundary-5f1c";

impl OpenAiCompatible {
    fn batch_url(&self, path: &str) -> String {
        format!("{}/{path}", self.s.base_url.trim_end_matches('/'))
    }

    fn exchange(&self) -> Exchange<'_> {
        Exchange {
            client: &self.client,
            headers: &self.headers,
            provider: &self.s.name,
            timeout: self.s.timeout,
            key: self.s.api_key.as_ref(),
        }
    }

    async fn submit_inner(
        &self,
        endpoint: BatchEndpoint,
        items: Vec<BatchItem>,
    ) -> Result<String, ProviderError> {
        let url = match endpoint {
            BatchEndpoint::Chat => "/v1/chat/completions",
            BatchEndpoint::Embeddings => "/v1/embeddings",
        };
        let mut form = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"switchyard.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n").into_bytes();
        for item in items {
            let head = json!({"custom_id": item.key, "method": "POST", "url": url}).to_string();
            // `{"custom_id":…,"url":…` + `,"body":` + the line's body + `}`.
            form.extend_from_slice(head.strip_suffix('}').unwrap_or(&head).as_bytes());
            form.extend_from_slice(b",\"body\":");
            form.extend_from_slice(&item.body);
            form.extend_from_slice(b"}\n");
        }
        form.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let upload = Request::post(self.batch_url("files")).header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary=\"{BOUNDARY}\""),
        );
        let ex = self.exchange();
        let file = ex.json(upload, Bytes::from(form)).await?;
        let file_id = file["id"].as_str().unwrap_or_default();
        let create = json!({"input_file_id": file_id, "endpoint": url, "completion_window": "24h"});
        let req = Request::post(self.batch_url("batches")).header(CONTENT_TYPE, "application/json");
        let batch = ex.json(req, Bytes::from(create.to_string())).await?;
        match batch["id"].as_str() {
            Some(id) => Ok(id.to_string()),
            None => Err(ex.invalid("a batch without an id".into())),
        }
    }

    async fn poll_inner(&self, id: &str) -> Result<UpstreamBatch, ProviderError> {
        let req = Request::get(self.batch_url(&format!("batches/{id}")));
        let v = self.exchange().json(req, Bytes::new()).await?;
        let status = v["status"].as_str().unwrap_or_default().to_string();
        Ok(UpstreamBatch {
            id: id.to_string(),
            done: matches!(
                status.as_str(),
                "completed" | "failed" | "expired" | "cancelled"
            ),
            status,
            results: v["output_file_id"].as_str().map(str::to_string),
        })
    }

    async fn results_inner(
        &self,
        batch: &UpstreamBatch,
    ) -> Result<Vec<(String, LineResult)>, ProviderError> {
        let Some(file) = &batch.results else {
            return Ok(Vec::new());
        };
        let req = Request::get(self.batch_url(&format!("files/{file}/content")));
        let output = self.exchange().call(req, Bytes::new()).await?;
        Ok(String::from_utf8_lossy(&output)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|mut v| {
                let key = v["custom_id"].as_str()?.to_string();
                let status = v["response"]["status_code"].as_u64();
                let status = status.and_then(|s| u16::try_from(s).ok()).unwrap_or(0);
                let result = if (200..300).contains(&status) {
                    let body = v["response"]["body"].take().to_string();
                    LineResult::Answered {
                        status,
                        body: Bytes::from(body),
                    }
                } else {
                    LineResult::Failed {
                        reason: format!("HTTP {status}: {}", v["response"]["body"]["error"]),
                    }
                };
                Some((key, result))
            })
            .collect())
    }
}

impl NativeBatch for OpenAiCompatible {
    fn encode(&self, req: &ProviderRequest<'_>) -> Result<Vec<u8>, ProviderError> {
        self.body(req).map(|(body, _, _)| body)
    }

    fn submit<'a>(
        &'a self,
        endpoint: BatchEndpoint,
        _model: &'a str,
        items: Vec<BatchItem>,
    ) -> BatchFuture<'a, String> {
        Box::pin(self.submit_inner(endpoint, items))
    }

    fn poll<'a>(&'a self, id: &'a str) -> BatchFuture<'a, UpstreamBatch> {
        Box::pin(self.poll_inner(id))
    }

    fn results<'a>(
        &'a self,
        batch: &'a UpstreamBatch,
    ) -> BatchFuture<'a, Vec<(String, LineResult)>> {
        Box::pin(self.results_inner(batch))
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BatchFuture<'a, ()> {
        let req = Request::post(self.batch_url(&format!("batches/{id}/cancel")));
        Box::pin(async move { self.exchange().call(req, Bytes::new()).await.map(|_| ()) })
    }
}
