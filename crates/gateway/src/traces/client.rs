//! The OTLP exporter's HTTP client: the providers' hyper-util client over rustls (no second
//! HTTP or TLS stack), each export spawned on the gateway's runtime and awaited from the
//! export thread, bounded by the export timeout whatever the collector does.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use opentelemetry_http::{HttpClient, HttpError};
use std::time::Duration;
use switchyard_providers::{HttpSettings, WholeResponse};

#[derive(Clone)]
pub(crate) struct Otlp {
    http: switchyard_providers::HttpClient,
    runtime: tokio::runtime::Handle,
    timeout: Duration,
}

impl std::fmt::Debug for Otlp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Otlp")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Otlp {
    pub(crate) fn new(runtime: tokio::runtime::Handle, timeout: Duration) -> Result<Self, String> {
        let settings = HttpSettings {
            connect_timeout: timeout.min(Duration::from_secs(5)),
            pool_idle_timeout: Duration::from_secs(60),
            pool_max_idle_per_host: 2,
        };
        Ok(Otlp {
            http: switchyard_providers::HttpClient::new(&settings)?,
            runtime,
            timeout,
        })
    }
}

#[async_trait::async_trait]
impl HttpClient for Otlp {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts, Full::new(body));
        let (http, timeout) = (self.http.clone(), self.timeout);
        let task = self
            .runtime
            .spawn(async move { tokio::time::timeout(timeout, http.fetch(request)).await });
        let answer: WholeResponse = match task.await {
            Ok(Ok(Ok(answer))) => answer,
            Ok(Ok(Err(e))) => return Err(e.into()),
            Ok(Err(_)) => return Err(format!("no answer in {timeout:?}").into()),
            Err(e) => return Err(format!("the export task stopped: {e}").into()),
        };
        let mut response = Response::new(answer.body);
        *response.status_mut() = http::StatusCode::from_u16(answer.status)?;
        *response.headers_mut() = answer.headers;
        Ok(response)
    }
}
