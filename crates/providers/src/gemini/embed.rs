//! Gemini embeddings (`:batchEmbedContents`) answered in OpenAI's embeddings shape.

use super::Gemini;
use crate::client::describe;
use crate::common::send_until;
use crate::{Dialect, ProviderError, ProviderResponse, ResponseBody};
use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use switchyard_protocol::openai::encode_vector;

impl Gemini {
    /// Embeddings through `:batchEmbedContents`, answered in OpenAI's shape (Google reports
    /// no usage here, so the gateway counts the tokens and marks them estimated): `dimensions`
    /// becomes `outputDimensionality`, and `encoding_format: "base64"` is honoured here, since
    /// Google only returns numbers.
    pub(super) async fn embed(
        &self,
        e: &switchyard_protocol::openai::EmbeddingRequest<'_>,
        model: &str,
    ) -> Result<ProviderResponse, ProviderError> {
        if e.pretokenized > 0 {
            return Err(self.unsupported(
                "Gemini embeddings take text, not token ids; send `input` as strings".into(),
            ));
        }
        let model = model.strip_prefix("models/").unwrap_or(model);
        // OpenAI's `dimensions` is Gemini's `outputDimensionality`, per request.
        let requests: Vec<serde_json::Value> = e
            .texts
            .iter()
            .map(|t| {
                let mut r = serde_json::json!({
                    "model": format!("models/{model}"),
                    "content": {"parts": [{"text": t}]},
                });
                if let Some(d) = e.dimensions {
                    r["outputDimensionality"] = serde_json::json!(d);
                }
                r
            })
            .collect();
        let body = serde_json::json!({ "requests": requests }).to_string();
        let uri: Uri = format!("{}{model}:batchEmbedContents", self.models_url)
            .parse()
            .map_err(|_| {
                self.unsupported(format!(
                    "the model name {model:?} cannot be used in a Gemini URL"
                ))
            })?;
        let mut request = http::Request::post(uri)
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| ProviderError::Connect {
                provider: self.s.name.clone(),
                message: err.to_string(),
            })?;
        *request.headers_mut() = self.headers.clone();
        let deadline = tokio::time::Instant::now() + self.s.timeout;
        let resp = send_until(
            &self.client,
            request,
            deadline,
            (&self.s.name, self.s.timeout),
        )
        .await?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(self.status_error(resp).await);
        }
        let bytes = match tokio::time::timeout_at(deadline, resp.into_body().collect()).await {
            Err(_) => return Err(self.timeout()),
            Ok(Err(err)) => {
                return Err(ProviderError::Stream {
                    provider: self.s.name.clone(),
                    message: describe(&err),
                });
            }
            Ok(Ok(c)) => c.to_bytes(),
        };
        #[derive(Deserialize)]
        struct Batch {
            #[serde(default)]
            embeddings: Vec<Values>,
        }
        #[derive(Deserialize)]
        struct Values {
            values: Vec<f64>,
        }
        let batch: Batch = serde_json::from_slice(&bytes).map_err(|err| ProviderError::Stream {
            provider: self.s.name.clone(),
            message: format!("the embeddings answer is not what Gemini documents: {err}"),
        })?;
        let data: Vec<serde_json::Value> = batch
            .embeddings
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                serde_json::json!({"object": "embedding", "index": i,
                "embedding": encode_vector(&v.values, e.base64)})
            })
            .collect();
        let out = serde_json::json!({"object": "list", "data": data, "model": model});
        Ok(ProviderResponse {
            status,
            content_type: Some("application/json".into()),
            body: ResponseBody::Full(Bytes::from(out.to_string())),
            dialect: Dialect::OpenAi,
            dropped: Vec::new(),
        })
    }
}
