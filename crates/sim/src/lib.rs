//! Simulated LLM providers that speak the real wire formats (OpenAI Chat Completions,
//! Responses (with stored conversations), Embeddings and Batch API, Azure OpenAI deployment URLs, Anthropic Messages and Message
//! Batches, Gemini generateContent and batch mode) with a latency model and fault injection.
//!
//! Deterministic: the answer to a prompt depends only on the prompt, the model and the seed;
//! faults are drawn from a seeded generator. Token counts derive from the input text.
//! Tests, the demo and the benchmarks all run against it. Knows nothing of the gateway.

mod anthropic;
mod anthropic_batch;
mod anthropic_reply;
mod batch;
mod batch_jobs;
mod cache;
mod chat;
mod common;
mod config;
mod embeddings;
mod gemini;
mod gemini_batch;
mod gemini_reply;
mod gemini_signature;
mod responses;
mod synth;

pub use config::{Behaviour, SimConfig};

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// Shared state: configuration, the request counter that seeds fault draws, and per-model
/// request counts (served on `GET /sim/stats`).
pub(crate) struct Sim {
    pub config: SimConfig,
    pub counter: AtomicU64,
    pub stats: Mutex<HashMap<String, u64>>,
    /// The last request body received, served on `GET /sim/last` (for passthrough checks).
    pub last: Mutex<bytes::Bytes>,
    /// The Anthropic headers (`anthropic-version`, `anthropic-beta`) of the last Messages
    /// request, served on `GET /sim/last_headers`; never the key.
    pub last_headers: Mutex<serde_json::Map<String, serde_json::Value>>,
    /// Hashes of prompt prefixes in the simulated prompt caches, with when each expires.
    pub prefixes: Mutex<HashMap<u64, std::time::Instant>>,
    /// Behaviours set at run time (`PUT /sim/behaviour/{model}`), over the configured ones:
    /// how tests take a model down and bring it back.
    pub overrides: Mutex<HashMap<String, Behaviour>>,
    /// The simulated Batch API's files and batches.
    pub batches: Mutex<batch::Batches>,
    /// The simulated Anthropic Message Batches and Gemini batch mode jobs.
    pub jobs: Mutex<batch_jobs::Jobs>,
    /// Stored Responses API conversations (`store`), by response id, as chat messages.
    pub responses: Mutex<HashMap<String, Vec<serde_json::Value>>>,
}

impl Sim {
    /// A fresh draw in [0, 1) for this request.
    pub fn draw(&self) -> f64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        synth::unit(synth::splitmix(
            self.config.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ))
    }

    pub fn remember(&self, body: &bytes::Bytes) {
        if let Ok(mut l) = self.last.lock() {
            *l = body.clone();
        }
    }

    /// How `model` behaves now: a run-time override, else the configuration.
    pub fn behaviour(&self, model: &str) -> Behaviour {
        if let Ok(o) = self.overrides.lock()
            && let Some(b) = o.get(model)
        {
            return b.clone();
        }
        self.config.behaviour(model).clone()
    }

    pub fn count(&self, model: &str) {
        if let Ok(mut s) = self.stats.lock() {
            *s.entry(model.to_string()).or_default() += 1;
        }
    }
}

/// The simulator's routes.
pub fn router(config: SimConfig) -> Router {
    let sim = Arc::new(Sim {
        config,
        counter: AtomicU64::new(0),
        stats: Mutex::new(HashMap::new()),
        last: Mutex::new(bytes::Bytes::new()),
        last_headers: Mutex::new(serde_json::Map::new()),
        prefixes: Mutex::new(HashMap::new()),
        overrides: Mutex::new(HashMap::new()),
        batches: Mutex::new(batch::Batches::default()),
        jobs: Mutex::new(batch_jobs::Jobs::default()),
        responses: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/v1/chat/completions", post(chat::openai))
        .route("/v1/embeddings", post(embeddings::openai))
        .route("/v1/responses", post(responses::create))
        .route("/v1/models", get(chat::models))
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            post(chat::azure),
        )
        .route(
            "/openai/deployments/{deployment}/embeddings",
            post(embeddings::azure),
        )
        .route("/v1/files", post(batch::upload))
        .route("/v1/files/{id}/content", get(batch::content))
        .route("/v1/batches", post(batch::create))
        .route("/v1/batches/{id}", get(batch::retrieve))
        .route("/v1/batches/{id}/cancel", post(batch::cancel))
        .route("/v1/messages", post(anthropic::messages))
        .route("/v1/messages/batches", post(anthropic_batch::create))
        .route("/v1/messages/batches/{id}", get(anthropic_batch::retrieve))
        .route(
            "/v1/messages/batches/{id}/results",
            get(anthropic_batch::results),
        )
        .route(
            "/v1/messages/batches/{id}/cancel",
            post(anthropic_batch::cancel),
        )
        .route("/v1beta/models/{call}", post(gemini::call))
        .route(
            "/v1beta/batches/{call}",
            get(gemini_batch::retrieve).post(gemini_batch::cancel),
        )
        .route("/sim/stats", get(stats))
        .route("/sim/last", get(last))
        .route(
            "/sim/behaviour/{model}",
            axum::routing::put(set_behaviour).delete(reset_behaviour),
        )
        .route("/sim/last_headers", get(last_headers))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(sim)
}

async fn last(
    axum::extract::State(sim): axum::extract::State<Arc<Sim>>,
) -> axum::response::Response {
    let body = sim.last.lock().map(|l| l.clone()).unwrap_or_default();
    axum::response::IntoResponse::into_response((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    ))
}

/// `PUT /sim/behaviour/{model}`: the model's behaviour from now on; members left out keep
/// their configured values.
async fn set_behaviour(
    axum::extract::State(sim): axum::extract::State<Arc<Sim>>,
    axum::extract::Path(model): axum::extract::Path<String>,
    body: bytes::Bytes,
) -> axum::response::Response {
    let base = serde_json::to_value(sim.config.behaviour(&model)).unwrap_or_default();
    let patch: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(&e.to_string()),
    };
    let mut merged = base;
    if let (Some(m), Some(p)) = (merged.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            m.insert(k.clone(), v.clone());
        }
    }
    match serde_json::from_value::<Behaviour>(merged) {
        Ok(b) => {
            if let Ok(mut o) = sim.overrides.lock() {
                o.insert(model, b);
            }
            axum::http::StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad_request(&e.to_string()),
    }
}

/// `DELETE /sim/behaviour/{model}`: back to the configured behaviour.
async fn reset_behaviour(
    axum::extract::State(sim): axum::extract::State<Arc<Sim>>,
    axum::extract::Path(model): axum::extract::Path<String>,
) -> axum::response::Response {
    if let Ok(mut o) = sim.overrides.lock() {
        o.remove(&model);
    }
    axum::http::StatusCode::NO_CONTENT.into_response()
}

fn bad_request(message: &str) -> axum::response::Response {
    crate::common::json_status(
        axum::http::StatusCode::BAD_REQUEST,
        &serde_json::json!({"error": {"message": message}}),
    )
}

async fn last_headers(
    axum::extract::State(sim): axum::extract::State<Arc<Sim>>,
) -> axum::response::Response {
    let headers = sim
        .last_headers
        .lock()
        .map(|h| h.clone())
        .unwrap_or_default();
    chat::json_response(&serde_json::Value::Object(headers))
}

async fn stats(
    axum::extract::State(sim): axum::extract::State<Arc<Sim>>,
) -> axum::response::Response {
    let counts = sim.stats.lock().map(|s| s.clone()).unwrap_or_default();
    chat::json_response(&serde_json::json!(counts))
}

/// Serves until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    config: SimConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Each SSE event is one small write; with Nagle's algorithm on, every stream would stall
    // on the client's delayed ACK (~40 ms), as no real provider's does.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(config))
        .with_graceful_shutdown(shutdown)
        .await
}
