//! Classified upstream failures.

use std::time::Duration;

/// The coarse class of a failure: what the router and the ledger act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// No connection could be made: nothing reached the upstream.
    Connect,
    /// The connection was reset or closed after the request was sent, before an answer: the
    /// upstream may have processed (and may bill) the request.
    Reset,
    Timeout,
    RateLimited,
    /// The upstream refused the gateway's own credentials (401/403): a config problem, not
    /// the client's; another target may still work.
    Auth,
    Server,
    Client,
    Stream,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Reset => "connection_reset",
            ErrorClass::Timeout => "timeout",
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::Auth => "upstream_auth",
            ErrorClass::Server => "server_error",
            ErrorClass::Client => "client_error",
            ErrorClass::Stream => "stream_error",
        }
    }
}

/// An upstream failure. Messages never contain credentials.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("could not connect to {provider}: {message}")]
    Connect { provider: String, message: String },
    #[error(
        "{provider} dropped the connection after the request was sent, before answering ({message}); it may have processed the request"
    )]
    Reset { provider: String, message: String },
    #[error("{provider} did not answer within {after:?}")]
    Timeout { provider: String, after: Duration },
    #[error("{provider} answered HTTP {status}: {message}")]
    Status {
        provider: String,
        status: u16,
        retry_after: Option<Duration>,
        /// The upstream's error message, secret-scrubbed and truncated.
        message: String,
        /// The upstream's raw error body, for same-dialect passthrough of client errors.
        body: bytes::Bytes,
    },
    #[error("the stream from {provider} broke: {message}")]
    Stream { provider: String, message: String },
    /// The request uses something this provider cannot honour; another target may.
    #[error("{provider} cannot take this request: {message}")]
    Unsupported { provider: String, message: String },
}

impl ProviderError {
    pub fn class(&self) -> ErrorClass {
        match self {
            ProviderError::Connect { .. } => ErrorClass::Connect,
            ProviderError::Reset { .. } => ErrorClass::Reset,
            ProviderError::Timeout { .. } => ErrorClass::Timeout,
            ProviderError::Status { status: 429, .. } => ErrorClass::RateLimited,
            ProviderError::Status {
                status: 401 | 403, ..
            } => ErrorClass::Auth,
            ProviderError::Status { status, .. } if *status >= 500 => ErrorClass::Server,
            // 408 (request timeout) is transient by definition.
            ProviderError::Status { status: 408, .. } => ErrorClass::Timeout,
            ProviderError::Status { .. } => ErrorClass::Client,
            ProviderError::Stream { .. } => ErrorClass::Stream,
            ProviderError::Unsupported { .. } => ErrorClass::Client,
        }
    }

    /// Whether another target may be tried: connection errors, timeouts, 429, 5xx, and the
    /// upstream refusing the gateway's credentials.
    pub fn is_retryable(&self) -> bool {
        !matches!(self.class(), ErrorClass::Client)
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ProviderError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
