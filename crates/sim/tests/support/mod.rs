//! Shared helpers for the dialect tests: sending requests through the router in-process.

#![allow(dead_code)]
#![expect(
    clippy::expect_used,
    reason = "test harness: a broken response should fail the test loudly"
)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::Value;
use switchyard_sim::{Behaviour, SimConfig};
use tower::ServiceExt;

/// A response with its body collected; `body` is `Err` when the stream broke.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Result<String, String>,
}

impl Reply {
    pub fn json(&self) -> Value {
        let text = self.body.as_ref().expect("body");
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    pub fn text(&self) -> &str {
        self.body.as_ref().expect("body")
    }
}

/// A config with no latency in which `model` behaves as `tweak` says.
pub fn config_with(model: &str, tweak: impl FnOnce(&mut Behaviour)) -> SimConfig {
    let mut c = SimConfig::instant();
    let mut b = c.defaults.clone();
    tweak(&mut b);
    c.models.insert(model.to_string(), b);
    c
}

pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let r = app.clone().oneshot(req).await.expect("infallible");
    let status = r.status();
    let headers = r.headers().clone();
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| e.to_string());
    Reply {
        status,
        headers,
        body,
    }
}

pub fn post(uri: &str, headers: &[(&str, &str)], body: &Value) -> Request<Body> {
    let mut b = Request::post(uri).header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::from(body.to_string())).expect("request")
}
