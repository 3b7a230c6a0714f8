//! The shared HTTP client: one connection pool for every provider.
//!
//! hyper-util's pooled client over rustls (ring, platform trust store). Not reqwest: a gateway
//! must not follow redirects or retry behind the router's back, and reqwest re-parses the URL
//! of every response, which showed up in the overhead profile.

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub pool_max_idle_per_host: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 256,
        }
    }
}

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A pooled HTTP/1.1 client for `http` and `https` URLs. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<Connector, Full<Bytes>>,
}

/// A whole response, for callers that do not stream (tools, tests, the demo).
#[derive(Debug)]
pub struct WholeResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl HttpClient {
    pub fn new(settings: &HttpSettings) -> Result<Self, String> {
        static PROVIDER: OnceLock<()> = OnceLock::new();
        PROVIDER.get_or_init(|| {
            // Fails only if a provider is already installed, which is equally fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        // Small request/response frames must not wait for Nagle's algorithm.
        http.set_nodelay(true);
        http.set_connect_timeout(Some(settings.connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .try_with_platform_verifier()
            .map_err(|e| format!("cannot load the platform's TLS trust store: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(settings.pool_idle_timeout)
            .pool_max_idle_per_host(settings.pool_max_idle_per_host)
            .build(https);
        Ok(HttpClient { inner })
    }

    /// Sends a request; the response body streams.
    pub async fn send(
        &self,
        req: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
        self.inner.request(req).await
    }

    /// Sends a request and reads the whole response.
    pub async fn fetch(&self, req: Request<Full<Bytes>>) -> Result<WholeResponse, String> {
        let resp = self.send(req).await.map_err(|e| describe(&e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(WholeResponse {
            status,
            headers,
            body,
        })
    }

    /// `POST url` with a JSON body and extra headers, read whole.
    pub async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<WholeResponse, String> {
        let mut b = Request::post(url).header(http::header::CONTENT_TYPE, "application/json");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.fetch(b.body(Full::new(body.into())).map_err(|e| e.to_string())?)
            .await
    }

    /// `GET url`, read whole.
    pub async fn get(&self, url: &str) -> Result<WholeResponse, String> {
        self.fetch(
            Request::get(url)
                .body(Full::new(Bytes::new()))
                .map_err(|e| e.to_string())?,
        )
        .await
    }
}

/// An error and its causes as one line. Nothing here carries credentials (keys travel in
/// headers, which errors do not print).
pub fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}
