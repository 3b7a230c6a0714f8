//! Anthropic's error body: `{"type":"error","error":{"type","message"}}`, the shape Anthropic
//! SDK clients parse on every non-2xx answer and in a stream's `error` event.

use crate::FieldError;
use serde::Serialize;

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
}

/// Anthropic's error type for an HTTP status. Other 4xx statuses read as
/// `invalid_request_error` and other 5xx as `api_error`, as Anthropic documents; 529 is its
/// "overloaded" status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

/// The error body for `status`, with `message` telling the client how to fix the request.
pub fn error_body(status: u16, message: &str) -> Vec<u8> {
    typed_error_body(error_type(status), message)
}

/// The error body for an explicit Anthropic error `kind` (e.g. from an upstream's stream).
pub fn typed_error_body(kind: &str, message: &str) -> Vec<u8> {
    let body = Body {
        kind: "error",
        error: Detail { kind, message },
    };
    // Two strings in a fixed shape: serialising into a Vec cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// A request field that failed validation, as a 400 `invalid_request_error` body. The field
/// path is already part of the message.
pub fn field_error_body(err: &FieldError) -> Vec<u8> {
    error_body(400, &err.message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn statuses_map_to_anthropic_error_types() {
        let cases = [
            (400, "invalid_request_error"),
            (401, "authentication_error"),
            (403, "permission_error"),
            (404, "not_found_error"),
            (409, "invalid_request_error"),
            (413, "request_too_large"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (502, "api_error"),
            (529, "overloaded_error"),
        ];
        for (status, kind) in cases {
            assert_eq!(error_type(status), kind, "{status}");
        }
    }

    #[test]
    fn body_has_anthropics_shape() {
        let body: Value = serde_json::from_slice(&error_body(429, "slow \"down\"")).unwrap();
        assert_eq!(
            body,
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow \"down\""}})
        );
        let err = FieldError::new("max_tokens", "`max_tokens` is required.");
        let body: Value = serde_json::from_slice(&field_error_body(&err)).unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["message"], "`max_tokens` is required.");
    }
}
