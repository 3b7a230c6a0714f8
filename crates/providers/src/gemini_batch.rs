//! Gemini batch mode with inline requests: `POST /v1beta/models/{model}:batchGenerateContent`
//! with `batch.inputConfig.requests.requests: [{request, metadata: {key}}]` answers a
//! long-running operation named `batches/{id}`; `GET /v1beta/batches/{id}` is polled until
//! `done` (the batch's `metadata.state`: `BATCH_STATE_PENDING`, `_RUNNING`, `_SUCCEEDED`,
//! `_FAILED`, `_CANCELLED`, `_EXPIRED`); its `response.inlinedResponses.inlinedResponses` holds
//! one `{response | error, metadata}` per request; `POST /v1beta/batches/{id}:cancel` stops it.
//! The key goes in `x-goog-api-key`, as for live calls.
//!
//! A line's `request` is what a live call to this adapter sends (canonical, then a
//! `generateContent` body); an answered line comes back as an OpenAI chat completion,
//! translated as a live answer is. Embeddings lines are not carried (they run in-process).

use crate::batch::{self, BatchEndpoint, BatchFuture, BatchItem, Exchange, LineResult};
use crate::common::now_secs;
use crate::{Gemini, NativeBatch, ProviderError, ProviderRequest, UpstreamBatch};
use bytes::Bytes;
use http::Request;
use serde_json::Value;
use switchyard_protocol::canonical::openai_completion;
use switchyard_protocol::gemini::{GenerateContentRequest, parse_response};

/// The states in which a batch has ended.
const ENDED: [&str; 4] = [
    "BATCH_STATE_SUCCEEDED",
    "BATCH_STATE_FAILED",
    "BATCH_STATE_CANCELLED",
    "BATCH_STATE_EXPIRED",
];

impl Gemini {
    fn exchange(&self) -> Exchange<'_> {
        Exchange {
            client: &self.client,
            headers: &self.headers,
            provider: &self.s.name,
            timeout: self.s.timeout,
            key: self.s.api_key.as_ref(),
        }
    }

    /// `{base}/v1beta/batches/{id}{rest}`.
    fn batch_url(&self, id: &str, rest: &str) -> Result<String, ProviderError> {
        let version = self.models_url.trim_end_matches("models/");
        let id = batch::path_id(&self.s.name, id)?;
        Ok(format!("{version}batches/{id}{rest}"))
    }

    fn unsupported_line(&self, message: String) -> ProviderError {
        ProviderError::Unsupported {
            provider: self.s.name.clone(),
            message,
        }
    }

    async fn submit_inner(
        &self,
        model: &str,
        items: Vec<BatchItem>,
    ) -> Result<String, ProviderError> {
        let model = model.strip_prefix("models/").unwrap_or(model);
        let mut body =
            br#"{"batch":{"displayName":"switchyard","inputConfig":{"requests":{"requests":["#
                .to_vec();
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(b"{\"request\":");
            body.extend_from_slice(&item.body);
            let key = Value::String(item.key).to_string();
            body.extend_from_slice(format!(",\"metadata\":{{\"key\":{key}}}}}").as_bytes());
        }
        body.extend_from_slice(b"]}}}}");
        let url = format!("{}{model}:batchGenerateContent", self.models_url);
        let ex = self.exchange();
        let op = ex.json(Request::post(url), Bytes::from(body)).await?;
        match op["name"].as_str().and_then(|n| n.strip_prefix("batches/")) {
            Some(id) => Ok(id.to_string()),
            None => Err(ex.invalid("an operation not named batches/{id}".into())),
        }
    }

    async fn operation(&self, id: &str) -> Result<Value, ProviderError> {
        let req = Request::get(self.batch_url(id, "")?);
        self.exchange().json(req, Bytes::new()).await
    }

    async fn poll_inner(&self, id: &str) -> Result<UpstreamBatch, ProviderError> {
        let op = self.operation(id).await?;
        let state = op["metadata"]["state"].as_str().unwrap_or_default();
        Ok(UpstreamBatch {
            id: id.to_string(),
            done: op["done"].as_bool() == Some(true) || ENDED.contains(&state),
            status: state.to_string(),
            results: None,
        })
    }

    async fn results_inner(
        &self,
        batch: &UpstreamBatch,
    ) -> Result<Vec<(String, LineResult)>, ProviderError> {
        let op = self.operation(&batch.id).await?;
        Ok(inlined(&op))
    }
}

/// Each inline response of an ended operation, by its request's `metadata.key`; the output
/// is read from `response` (the operation's result) or, failing that, `metadata.output`.
fn inlined(op: &Value) -> Vec<(String, LineResult)> {
    let output = match op.pointer("/response/inlinedResponses/inlinedResponses") {
        Some(v) => v,
        None => &op["metadata"]["output"]["inlinedResponses"]["inlinedResponses"],
    };
    let created = now_secs();
    let Some(all) = output.as_array() else {
        return Vec::new();
    };
    all.iter()
        .filter_map(|r| {
            let key = r["metadata"]["key"].as_str()?.to_string();
            let result = match (r.get("response"), r.get("error")) {
                (Some(resp), _) => match parse_response(resp.to_string().as_bytes()) {
                    Ok(parsed) => LineResult::Answered {
                        status: 200,
                        body: Bytes::from(openai_completion(&parsed, created)),
                    },
                    Err(e) => LineResult::Failed {
                        reason: format!("the response cannot be read: {}", e.message),
                    },
                },
                (None, Some(e)) => LineResult::Failed {
                    reason: format!("{}: {}", e["status"], e["message"]),
                },
                (None, None) => LineResult::Failed {
                    reason: "neither a response nor an error".into(),
                },
            };
            Some((key, result))
        })
        .collect()
}

impl NativeBatch for Gemini {
    fn encode(&self, req: &ProviderRequest<'_>) -> Result<Vec<u8>, ProviderError> {
        let (canonical, _dropped) = match req.payload.canonical(req.model, req.allow_drop) {
            None => {
                return Err(self.unsupported_line(
                    "embeddings lines are not sent through Gemini batch mode".into(),
                ));
            }
            Some(c) => c.map_err(|e| self.unsupported_line(e.message))?,
        };
        let body = GenerateContentRequest::try_from(&canonical)
            .map_err(|e| self.unsupported_line(e.message))?;
        Ok(body.to_json())
    }

    fn submit<'a>(
        &'a self,
        endpoint: BatchEndpoint,
        model: &'a str,
        items: Vec<BatchItem>,
    ) -> BatchFuture<'a, String> {
        Box::pin(async move {
            if endpoint == BatchEndpoint::Embeddings {
                return Err(self.unsupported_line(
                    "embeddings lines are not sent through Gemini batch mode".into(),
                ));
            }
            self.submit_inner(model, items).await
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
            let req = Request::post(self.batch_url(id, ":cancel")?);
            self.exchange().call(req, Bytes::new()).await.map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inline_responses_are_matched_by_key_and_errors_are_failures() {
        let op = json!({"name": "batches/b1", "done": true,
            "metadata": {"state": "BATCH_STATE_SUCCEEDED"},
            "response": {"inlinedResponses": {"inlinedResponses": [
                {"response": {"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]},
                    "finishReason": "STOP"}],
                    "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1, "totalTokenCount": 6}},
                 "metadata": {"key": "3"}},
                {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "bad"},
                 "metadata": {"key": "4"}}]}}});
        let got = inlined(&op);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, "3");
        let LineResult::Answered { body, .. } = &got[0].1 else {
            panic!("not answered: {got:?}");
        };
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "hi");
        assert_eq!(v["usage"]["prompt_tokens"], 5);
        assert_eq!(got[1].0, "4");
        assert!(matches!(&got[1].1, LineResult::Failed { reason } if reason.contains("bad")));
    }

    #[test]
    fn a_batch_whose_output_sits_in_its_metadata_is_read_too() {
        let op = json!({"metadata": {"output": {"inlinedResponses": {"inlinedResponses": [
            {"error": {"message": "x"}, "metadata": {"key": "1"}}]}}}});
        assert_eq!(inlined(&op).len(), 1);
    }
}
