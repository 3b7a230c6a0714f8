//! Reading request bodies under the configured limit.

use axum::body::Body;
use axum::http::HeaderMap;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use switchyard_gateway::GatewayError;
use switchyard_protocol::FieldError;

/// The whole body, or 413 past `limit` (checked against `Content-Length` first, so an
/// oversized upload is refused without reading it).
pub async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, GatewayError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(GatewayError::BodyTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(GatewayError::BodyTooLarge { limit })
        }
        Err(e) => Err(GatewayError::InvalidRequest(FieldError::body(format!(
            "Could not read the request body: {e}"
        )))),
    }
}
