//! Gateway errors: what went wrong, in terms the edge maps to a status and a dialect.

use std::time::Duration;
use switchyard_protocol::FieldError;

/// The broad kind of an error, which each dialect names in its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidRequest,
    NotFound,
    TooLarge,
    RateLimited,
    Upstream,
    Timeout,
    Unavailable,
    /// No valid key (401).
    Unauthorized,
    /// A valid key without the right (403).
    Forbidden,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{0}")]
    InvalidRequest(FieldError),
    /// Something the request names (a stored response) does not exist for this caller.
    #[error("{0}")]
    NotFound(FieldError),
    /// The Responses API's conversation store could not be read or written.
    #[error(
        "The stored conversation could not be read: {0}. Retry, or send the whole conversation as `input`."
    )]
    StoreFailed(String),
    #[error("The model {requested:?} does not exist on this gateway. Use one of: {}.", available.join(", "))]
    UnknownRoute {
        requested: String,
        available: Vec<String>,
    },
    #[error(
        "The request body is larger than the {limit}-byte limit. Send a smaller request, or raise [server] max_body_bytes."
    )]
    BodyTooLarge { limit: usize },
    #[error(
        "The request body did not arrive within {}s. Send the body as fast as its headers, or raise [server] body_timeout_ms.", after.as_secs_f64()
    )]
    BodyTimeout { after: Duration },
    /// The upstream refused the request itself (4xx other than 429). Its own error is relayed.
    #[error("{message}")]
    UpstreamRejected {
        route: String,
        status: u16,
        message: String,
    },
    #[error("Every target of route {route:?} is rate limited; retry after {}s. Attempts: {summary}", retry_after.as_secs().max(1))]
    RateLimited {
        route: String,
        retry_after: Duration,
        summary: String,
    },
    #[error("Every target of route {route:?} failed. Attempts: {summary}")]
    UpstreamFailed {
        route: String,
        timed_out: bool,
        summary: String,
    },
    #[error("The gateway is shutting down; retry on another replica.")]
    ShuttingDown,
    /// No target of the route can take this request (context window, capabilities).
    #[error("No target of route {route:?} can take this request: {reasons}.")]
    NoTargetFits {
        route: String,
        reasons: String,
        /// Every target was skipped for its context window.
        too_long: bool,
    },
    #[error("Every target of route {route:?} is failing and its circuit is open; retry after {}s.", retry_after.as_secs().max(1))]
    CircuitOpen {
        route: String,
        retry_after: Duration,
    },
    #[error("{message}")]
    Unauthorized { message: String },
    #[error("{message}")]
    Forbidden { message: String },
    /// The caller's key is over a budget or a rate limit (not an upstream limit).
    #[error("{message}")]
    KeyLimited {
        message: String,
        retry_after: Duration,
        /// `budget_exceeded` or `rate_limit_exceeded`.
        code: &'static str,
    },
}

impl GatewayError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            GatewayError::InvalidRequest(_) => ErrorKind::InvalidRequest,
            GatewayError::NotFound(_) => ErrorKind::NotFound,
            GatewayError::StoreFailed(_) => ErrorKind::Unavailable,
            GatewayError::UnknownRoute { .. } => ErrorKind::NotFound,
            GatewayError::BodyTooLarge { .. } => ErrorKind::TooLarge,
            GatewayError::BodyTimeout { .. } => ErrorKind::InvalidRequest,
            GatewayError::UpstreamRejected { status: 404, .. } => ErrorKind::NotFound,
            GatewayError::UpstreamRejected { status: 413, .. } => ErrorKind::TooLarge,
            GatewayError::UpstreamRejected { .. } => ErrorKind::InvalidRequest,
            GatewayError::RateLimited { .. } => ErrorKind::RateLimited,
            GatewayError::UpstreamFailed {
                timed_out: true, ..
            } => ErrorKind::Timeout,
            GatewayError::UpstreamFailed { .. } => ErrorKind::Upstream,
            GatewayError::ShuttingDown | GatewayError::CircuitOpen { .. } => ErrorKind::Unavailable,
            GatewayError::NoTargetFits { .. } => ErrorKind::InvalidRequest,
            GatewayError::Unauthorized { .. } => ErrorKind::Unauthorized,
            GatewayError::Forbidden { .. } => ErrorKind::Forbidden,
            // `[fleet] fail_closed` while Redis is unreachable: the gateway's fault, not the key's.
            GatewayError::KeyLimited {
                code: "governance_unavailable",
                ..
            } => ErrorKind::Unavailable,
            GatewayError::KeyLimited { .. } => ErrorKind::RateLimited,
        }
    }

    /// A specific error code for the body (`context_length_exceeded`, …), where one applies.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            GatewayError::NoTargetFits { too_long: true, .. } => Some("context_length_exceeded"),
            GatewayError::NoTargetFits { .. } => Some("unsupported_feature"),
            GatewayError::CircuitOpen { .. } => Some("circuit_open"),
            GatewayError::KeyLimited { code, .. } => Some(code),
            GatewayError::Unauthorized { .. } => Some("invalid_api_key"),
            GatewayError::Forbidden { .. } => Some("route_not_allowed"),
            GatewayError::BodyTimeout { .. } => Some("request_timeout"),
            GatewayError::ShuttingDown => Some("shutting_down"),
            GatewayError::NotFound(f) if f.param.as_deref() == Some("previous_response_id") => {
                Some("previous_response_not_found")
            }
            GatewayError::NotFound(_) => Some("not_found"),
            GatewayError::StoreFailed(_) => Some("store_unavailable"),
            _ => None,
        }
    }

    /// The HTTP status for the client.
    pub fn status(&self) -> u16 {
        match self {
            GatewayError::UpstreamRejected { status, .. } => *status,
            GatewayError::BodyTimeout { .. } => 408,
            _ => match self.kind() {
                ErrorKind::InvalidRequest => 400,
                ErrorKind::NotFound => 404,
                ErrorKind::TooLarge => 413,
                ErrorKind::RateLimited => 429,
                ErrorKind::Upstream => 502,
                ErrorKind::Timeout => 504,
                ErrorKind::Unavailable => 503,
                ErrorKind::Unauthorized => 401,
                ErrorKind::Forbidden => 403,
            },
        }
    }

    /// The request field at fault, if any.
    pub fn param(&self) -> Option<&str> {
        match self {
            GatewayError::InvalidRequest(f) | GatewayError::NotFound(f) => f.param.as_deref(),
            GatewayError::UnknownRoute { .. } => Some("model"),
            _ => None,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GatewayError::RateLimited { retry_after, .. } => Some(*retry_after),
            GatewayError::ShuttingDown => Some(Duration::from_secs(1)),
            GatewayError::CircuitOpen { retry_after, .. }
            | GatewayError::KeyLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The short class stored in the ledger.
    pub fn class(&self) -> &'static str {
        match self {
            GatewayError::InvalidRequest(_) => "invalid_request",
            GatewayError::NotFound(_) => "not_found",
            GatewayError::StoreFailed(_) => "store_unavailable",
            GatewayError::UnknownRoute { .. } => "unknown_route",
            GatewayError::BodyTooLarge { .. } => "body_too_large",
            GatewayError::BodyTimeout { .. } => "body_timeout",
            GatewayError::UpstreamRejected { .. } => "upstream_rejected",
            GatewayError::RateLimited { .. } => "rate_limited",
            GatewayError::UpstreamFailed {
                timed_out: true, ..
            } => "upstream_timeout",
            GatewayError::UpstreamFailed { .. } => "upstream_error",
            GatewayError::ShuttingDown => "shutting_down",
            GatewayError::NoTargetFits { too_long: true, .. } => "context_length_exceeded",
            GatewayError::NoTargetFits { .. } => "no_target_fits",
            GatewayError::CircuitOpen { .. } => "circuit_open",
            GatewayError::Unauthorized { .. } => "unauthorized",
            GatewayError::Forbidden { .. } => "forbidden",
            GatewayError::KeyLimited { code, .. } => code,
        }
    }

    /// OpenAI's error `type` and `code` for this error (the OpenAI ingress renders them; the
    /// batch runner writes them into error files).
    pub fn openai_type_and_code(&self) -> (&'static str, Option<&'static str>) {
        let (kind, code) = match self.kind() {
            ErrorKind::InvalidRequest => ("invalid_request_error", None),
            ErrorKind::NotFound => ("invalid_request_error", Some("model_not_found")),
            ErrorKind::TooLarge => ("invalid_request_error", Some("request_too_large")),
            ErrorKind::RateLimited => ("rate_limit_error", Some("rate_limit_exceeded")),
            ErrorKind::Upstream => ("server_error", Some("upstream_error")),
            ErrorKind::Timeout => ("server_error", Some("upstream_timeout")),
            ErrorKind::Unavailable => ("server_error", Some("unavailable")),
            ErrorKind::Unauthorized => ("invalid_request_error", Some("invalid_api_key")),
            ErrorKind::Forbidden => ("permission_error", Some("route_not_allowed")),
        };
        (kind, self.code().or(code))
    }

    pub fn route(&self) -> Option<&str> {
        match self {
            GatewayError::UpstreamRejected { route, .. }
            | GatewayError::RateLimited { route, .. }
            | GatewayError::UpstreamFailed { route, .. }
            | GatewayError::NoTargetFits { route, .. }
            | GatewayError::CircuitOpen { route, .. } => Some(route),
            _ => None,
        }
    }
}
