//! Anthropic's Message Batches API: `POST /v1/messages/batches` with
//! `requests: [{custom_id, params}]`, `GET /v1/messages/batches/{id}` (`processing_status`
//! `in_progress` | `canceling` | `ended`), the `results_url` JSONL of
//! `{custom_id, result: {type: succeeded|errored|canceled|expired, message|error}}`, and
//! `POST /v1/messages/batches/{id}/cancel`, with the provider's key, `anthropic-version` and
//! configured headers.
//!
//! A line's `params` are what a live call to this adapter sends for an OpenAI client's request
//! (canonical, then a Messages body); a `succeeded` message comes back as an OpenAI chat
//! completion, translated as a live answer is, so usage and pricing match a live call.

use crate::batch::{self, BatchEndpoint, BatchFuture, BatchItem, Exchange, LineResult};
use crate::common::now_secs;
use crate::{Anthropic, NativeBatch, ProviderError, ProviderRequest, UpstreamBatch};
use bytes::Bytes;
use http::Request;
use serde_json::Value;
use switchyard_protocol::anthropic::parse_response;
use switchyard_protocol::canonical::openai_completion;

impl Anthropic {
    fn exchange(&self) -> Exchange<'_> {
        Exchange {
            client: &self.client,
            headers: &self.headers,
            provider: &self.s.name,
            timeout: self.s.timeout,
            key: self.s.api_key.as_ref(),
        }
    }

    /// `…/v1/messages/batches`, then `/{id}` and `rest` when given.
    fn batches_url(&self, id: Option<&str>, rest: &str) -> Result<String, ProviderError> {
        let base = format!("{}/batches", self.url);
        Ok(match id {
            None => base,
            Some(id) => format!("{base}/{}{rest}", batch::path_id(&self.s.name, id)?),
        })
    }

    async fn submit_inner(&self, items: Vec<BatchItem>) -> Result<String, ProviderError> {
        let mut body = b"{\"requests\":[".to_vec();
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            let id = Value::String(item.key).to_string();
            body.extend_from_slice(format!("{{\"custom_id\":{id},\"params\":").as_bytes());
            body.extend_from_slice(&item.body);
            body.push(b'}');
        }
        body.extend_from_slice(b"]}");
        let ex = self.exchange();
        let req = Request::post(self.batches_url(None, "")?);
        let created = ex.json(req, Bytes::from(body)).await?;
        match created["id"].as_str() {
            Some(id) => Ok(id.to_string()),
            None => Err(ex.invalid("a message batch without an id".into())),
        }
    }

    async fn poll_inner(&self, id: &str) -> Result<UpstreamBatch, ProviderError> {
        let req = Request::get(self.batches_url(Some(id), "")?);
        let v = self.exchange().json(req, Bytes::new()).await?;
        let status = v["processing_status"].as_str().unwrap_or_default();
        Ok(UpstreamBatch {
            id: id.to_string(),
            done: status == "ended",
            status: status.to_string(),
            results: v["results_url"].as_str().map(str::to_string),
        })
    }

    /// The results URL: the one the batch names when it is on this provider's own host (the
    /// key goes with the request, so it never goes elsewhere), else the documented path.
    fn results_url(&self, batch: &UpstreamBatch) -> Result<String, ProviderError> {
        let origin = format!(
            "{}://{}/",
            self.url.scheme_str().unwrap_or("https"),
            self.url.authority().map_or("", |a| a.as_str())
        );
        match &batch.results {
            Some(u) if u.starts_with(&origin) => Ok(u.clone()),
            _ => self.batches_url(Some(&batch.id), "/results"),
        }
    }

    async fn results_inner(
        &self,
        batch: &UpstreamBatch,
    ) -> Result<Vec<(String, LineResult)>, ProviderError> {
        let req = Request::get(self.results_url(batch)?);
        let jsonl = self.exchange().call(req, Bytes::new()).await?;
        let created = now_secs();
        Ok(String::from_utf8_lossy(&jsonl)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| {
                let key = v["custom_id"].as_str()?.to_string();
                Some((key, line_result(&v["result"], created)))
            })
            .collect())
    }
}

/// One `result`: a `succeeded` message as an OpenAI completion, anything else failed.
fn line_result(result: &Value, created: u64) -> LineResult {
    match result["type"].as_str() {
        Some("succeeded") => match parse_response(result["message"].to_string().as_bytes()) {
            Ok(parsed) => LineResult::Answered {
                status: 200,
                body: Bytes::from(openai_completion(&parsed, created)),
            },
            Err(e) => LineResult::Failed {
                reason: format!("the message cannot be read: {}", e.message),
            },
        },
        Some("errored") => {
            let e = &result["error"]["error"];
            LineResult::Failed {
                reason: format!("errored: {}: {}", e["type"], e["message"]),
            }
        }
        other => LineResult::Failed {
            reason: other.unwrap_or("no result").to_string(),
        },
    }
}

impl NativeBatch for Anthropic {
    fn encode(&self, req: &ProviderRequest<'_>) -> Result<Vec<u8>, ProviderError> {
        self.outgoing(req).map(|out| out.body)
    }

    fn submit<'a>(
        &'a self,
        endpoint: BatchEndpoint,
        _model: &'a str,
        items: Vec<BatchItem>,
    ) -> BatchFuture<'a, String> {
        Box::pin(async move {
            if endpoint == BatchEndpoint::Embeddings {
                return Err(ProviderError::Unsupported {
                    provider: self.s.name.clone(),
                    message: "Anthropic has no embeddings API".into(),
                });
            }
            self.submit_inner(items).await
        })
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
        Box::pin(async move {
            let req = Request::post(self.batches_url(Some(id), "/cancel")?);
            self.exchange().call(req, Bytes::new()).await.map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_succeeded_result_becomes_an_openai_completion_with_its_usage() {
        let result = json!({"type": "succeeded", "message": {"id": "msg_1", "type": "message",
            "role": "assistant", "model": "claude-haiku-4-5", "stop_reason": "end_turn",
            "content": [{"type": "text", "text": "hi"}],
            "usage": {"input_tokens": 7, "output_tokens": 2}}});
        let LineResult::Answered { status, body } = line_result(&result, 1) else {
            panic!("not answered");
        };
        assert_eq!(status, 200);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "hi");
        assert_eq!(v["usage"]["prompt_tokens"], 7);
        assert_eq!(v["usage"]["completion_tokens"], 2);
    }

    #[test]
    fn errored_canceled_and_expired_results_are_failures_naming_why() {
        let errored = json!({"type": "errored", "error": {"type": "error",
            "error": {"type": "invalid_request_error", "message": "max_tokens: too large"}}});
        let LineResult::Failed { reason } = line_result(&errored, 1) else {
            panic!("answered");
        };
        assert!(reason.contains("max_tokens: too large"), "{reason}");
        for kind in ["canceled", "expired"] {
            assert_eq!(
                line_result(&json!({"type": kind}), 1),
                LineResult::Failed {
                    reason: kind.into()
                }
            );
        }
    }
}
