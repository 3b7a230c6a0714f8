//! `POST /v1/embeddings`: deterministic unit vectors, float or base64.

use crate::Sim;
use crate::chat::{authorized, error, fault, unauthorized};
use crate::synth;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub async fn openai(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(sim, headers, body, None).await
}

pub async fn azure(
    State(sim): State<Arc<Sim>>,
    Path(deployment): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !q.contains_key("api-version") {
        return error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("404"),
            "Resource not found: the api-version query parameter is required.",
        );
    }
    handle(sim, headers, body, Some(deployment)).await
}

fn default_dims(model: &str) -> usize {
    if model.contains("large") {
        3072
    } else if model.contains("mistral") {
        1024
    } else {
        1536
    }
}

async fn handle(
    sim: Arc<Sim>,
    headers: HeaderMap,
    body: Bytes,
    deployment: Option<String>,
) -> Response {
    sim.remember(&body);
    if !authorized(&sim, &headers) {
        return unauthorized(&headers);
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            "We could not parse the JSON body of your request.",
        );
    };
    let model = deployment
        .or_else(|| req.get("model").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let inputs: Vec<String> = match req.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect(),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                None,
                "'input' is a required property",
            );
        }
    };
    sim.count(&model);
    let b = sim.behaviour(&model);
    if let Some(r) = fault(&sim, &b).await {
        return r;
    }
    if !b.ttft().is_zero() {
        tokio::time::sleep(b.ttft()).await;
    }
    let dims = req
        .get("dimensions")
        .and_then(Value::as_u64)
        .map_or_else(|| default_dims(&model), |d| d as usize);
    let base64 = req.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let mut tokens = 0;
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            tokens += synth::approx_tokens(text);
            let v = match b.word_vectors {
                true => word_vector(&model, text, dims),
                false => vector(&model, text, dims),
            };
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                json!(synth::base64(&bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let mut out = json!({"object": "list", "data": data, "model": model});
    if !b.omit_usage {
        out["usage"] = json!({"prompt_tokens": tokens, "total_tokens": tokens});
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        out.to_string(),
    )
        .into_response()
}

/// A deterministic unit vector for `text`.
pub(crate) fn vector(model: &str, text: &str, dims: usize) -> Vec<f32> {
    let mut v = vec![0.0; dims];
    add_direction(&mut v, model, text);
    normalised(v)
}

/// The sum of one deterministic direction per word of `text` (lower-cased, letters and
/// digits), normalised: two texts' cosine is about the share of words they have in common.
pub(crate) fn word_vector(model: &str, text: &str, dims: usize) -> Vec<f32> {
    let mut v = vec![0.0; dims];
    let lower = text.to_lowercase();
    for word in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        add_direction(&mut v, model, word);
    }
    normalised(v)
}

/// Adds `seed`'s random direction (components uniform in -1..1) to `v`.
fn add_direction(v: &mut [f32], model: &str, seed: &str) {
    let mut x = synth::hash(&[model, seed]);
    for f in v.iter_mut() {
        x = synth::splitmix(x);
        *f += (synth::unit(x) * 2.0 - 1.0) as f32;
    }
}

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v
        .iter()
        .map(|f| f * f)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    v.iter_mut().for_each(|f| *f /= norm);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn word_vectors_put_texts_sharing_most_words_near_and_others_apart() {
        let v = |t: &str| word_vector("m", t, 1536);
        let asked = v("How do I reset my password?");
        let reworded = cosine(&asked, &v("Hi, how do I reset my password?"));
        assert!(reworded > 0.9, "{reworded}");
        let other = cosine(&asked, &v("Where can I download a copy of my invoice?"));
        assert!(other < 0.4, "{other}");
        // Case and punctuation do not matter; the same text is the same vector.
        assert!(cosine(&asked, &v("how do i reset my password")) > 0.999);
        // The default draws a vector per text: a reworded question is not near.
        let random = cosine(
            &vector("m", "How do I reset my password?", 1536),
            &vector("m", "Hi, how do I reset my password?", 1536),
        );
        assert!(random.abs() < 0.2, "{random}");
    }
}
