//! W3C Trace Context: the client's `traceparent` (and `tracestate`) read into the parent a
//! request span continues, and the sampling decision (parent-based, else a ratio of trace ids).
//!
//! Header format (https://www.w3.org/TR/trace-context/#traceparent-header):
//! `version "-" trace-id "-" parent-id "-" trace-flags`, lower-case hex, 2-32-16-2 digits.
//! Version `ff` is invalid; an all-zero trace id or parent id is invalid; a later version may
//! append fields after a `-`, which are ignored. An invalid header is treated as absent (a new
//! trace starts), as the specification asks.

use opentelemetry::trace::{SpanId, TraceId, TraceState};
use std::str::FromStr;

/// The client's span, as its `traceparent` named it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parent {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// The client's `sampled` flag: the request is traced exactly when it is set.
    pub sampled: bool,
    /// The client's `tracestate`, carried on unchanged (empty when absent or invalid).
    pub state: TraceState,
}

fn hex_field(s: &str, len: usize) -> Option<&str> {
    let ok = s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    ok.then_some(s)
}

impl Parent {
    /// Reads `traceparent` (and `tracestate`); `None` when the header is absent or invalid.
    pub fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<Parent> {
        let mut parts = traceparent.trim().split('-');
        let version = hex_field(parts.next()?, 2)?;
        let trace = hex_field(parts.next()?, 32)?;
        let span = hex_field(parts.next()?, 16)?;
        let flags = hex_field(parts.next()?, 2)?;
        // Version 00 has exactly four fields; a later version may add more.
        if version == "ff" || (version == "00" && parts.next().is_some()) {
            return None;
        }
        let trace_id = TraceId::from_hex(trace).ok()?;
        let span_id = SpanId::from_hex(span).ok()?;
        if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        let state = tracestate
            .and_then(|s| TraceState::from_str(s.trim()).ok())
            .unwrap_or_default();
        Some(Parent {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
            state,
        })
    }
}

/// Whether a new trace (no parent) with this id is kept under `ratio`: the id's low 64 bits
/// against `ratio × 2^64`, the rule of OpenTelemetry's `TraceIdRatioBased` sampler, so every
/// replica decides the same for one trace id.
pub fn keeps(trace_id: TraceId, ratio: f64) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    if ratio <= 0.0 {
        return false;
    }
    let low = u64::from_be_bytes(trace_id.to_bytes()[8..].try_into().unwrap_or([0; 8]));
    let bound = (ratio * (1u128 << 64) as f64) as u64;
    low < bound
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_is_read_with_its_flags_and_state() {
        let p = Parent::parse(VALID, Some("vendor=abc,other=1")).unwrap();
        assert_eq!(p.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(p.span_id.to_string(), "00f067aa0ba902b7");
        assert!(p.sampled);
        assert_eq!(p.state.header(), "vendor=abc,other=1");
        let unsampled = VALID.replace("-01", "-00");
        assert!(!Parent::parse(&unsampled, None).unwrap().sampled);
    }

    #[test]
    fn invalid_traceparents_are_treated_as_absent() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(Parent::parse(bad, None).is_none(), "{bad:?} was accepted");
        }
        // A later version may carry more fields.
        let future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what";
        assert!(Parent::parse(future, None).is_some());
    }

    #[test]
    fn the_ratio_keeps_about_that_share_of_trace_ids_and_the_bounds_are_exact() {
        let ids = (0..10_000u128)
            .map(|i| TraceId::from(i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)));
        let kept = ids.clone().filter(|&id| keeps(id, 0.25)).count();
        assert!(
            (2_200..2_800).contains(&kept),
            "kept {kept} of 10000 at 0.25"
        );
        assert!(ids.clone().all(|id| keeps(id, 1.0)));
        assert!(!ids.clone().any(|id| keeps(id, 0.0)));
    }
}
