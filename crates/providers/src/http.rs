//! The shared HTTP client: one connection pool for every provider.

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

/// Builds a client. TLS uses rustls with the ring provider and the platform's trust store.
pub fn shared_client(settings: &HttpSettings) -> Result<reqwest::Client, String> {
    static PROVIDER: OnceLock<()> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        // Fails only if another provider was installed first, which is equally fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .pool_idle_timeout(settings.pool_idle_timeout)
        .pool_max_idle_per_host(settings.pool_max_idle_per_host)
        // Small request/response frames must not wait for Nagle's algorithm.
        .tcp_nodelay(true)
        // The router owns retries and fallbacks; a second, hidden retry layer would double
        // attempts and spend without a trace in the ledger.
        .retry(reqwest::retry::never())
        .no_proxy()
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}
