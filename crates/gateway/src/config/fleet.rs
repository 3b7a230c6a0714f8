//! `[fleet]`: shared governance state for several replicas (budgets, rate limits and key-change
//! notices in one Redis). Absent, or without `redis_url`, everything stays in-process. Owns
//! only parsing and validation; `switchyard_governance::Fleet` does the work.

use super::Errors;
use serde::Deserialize;
use std::time::Duration;
use switchyard_governance::FleetOptions;

/// The validated `[fleet]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetConfig {
    /// `redis://[user:password@]host:port[/db]`; may carry a password, so never logged.
    pub redis_url: String,
    pub options: FleetOptions,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFleet {
    redis_url: Option<String>,
    prefix: Option<String>,
    replica_id: Option<String>,
    fail_closed: Option<bool>,
    lease_ms: Option<u64>,
    heartbeat_ms: Option<u64>,
    timeout_ms: Option<u64>,
    reconcile_interval_ms: Option<u64>,
}

/// A duration in milliseconds within bounds, or the default (an error when out of bounds).
fn ms(
    errs: &mut Errors,
    key: &str,
    value: Option<u64>,
    range: (u64, u64),
    default: Duration,
) -> Duration {
    match value {
        None => default,
        Some(v) if (range.0..=range.1).contains(&v) => Duration::from_millis(v),
        Some(_) => {
            errs.push(
                format!("fleet.{key}"),
                format!(
                    "must be between {} and {} (milliseconds); the default is {}",
                    range.0,
                    range.1,
                    default.as_millis()
                ),
            );
            default
        }
    }
}

pub(super) fn validate(errs: &mut Errors, raw: Option<RawFleet>) -> Option<FleetConfig> {
    let raw = raw?;
    let mut options = FleetOptions::default();
    let d = options.clone();
    options.lease = ms(errs, "lease_ms", raw.lease_ms, (1_000, 86_400_000), d.lease);
    options.heartbeat = ms(
        errs,
        "heartbeat_ms",
        raw.heartbeat_ms,
        (100, 60_000),
        d.heartbeat,
    );
    options.op_timeout = ms(
        errs,
        "timeout_ms",
        raw.timeout_ms,
        (1, 10_000),
        d.op_timeout,
    );
    options.reconcile_every = ms(
        errs,
        "reconcile_interval_ms",
        raw.reconcile_interval_ms,
        (1_000, 86_400_000),
        d.reconcile_every,
    );
    options.fail_closed = raw.fail_closed.unwrap_or(false);
    if let Some(p) = raw.prefix {
        if p.is_empty() || p.contains('|') || p.contains(char::is_whitespace) {
            errs.push(
                "fleet.prefix",
                "must be non-empty, without spaces or `|` (default \"switchyard:gov:\")",
            );
        } else {
            options.prefix = p;
        }
    }
    if let Some(id) = raw.replica_id {
        if id.is_empty() || id.contains(['|', ':']) || id.contains(char::is_whitespace) {
            errs.push(
                "fleet.replica_id",
                "must be non-empty, without spaces, `:` or `|`; omit it for host-pid-random",
            );
        } else {
            options.replica_id = id;
        }
    }
    let Some(redis_url) = raw.redis_url else {
        errs.push(
            "fleet.redis_url",
            "is required in [fleet]: give \"redis://host:port[/db]\", or remove [fleet] to keep governance in-process",
        );
        return None;
    };
    if !redis_url.starts_with("redis://") {
        errs.push(
            "fleet.redis_url",
            "must start with redis:// (TLS is not built in: reach Redis over a private network or a local TLS tunnel)",
        );
        return None;
    }
    Some(FleetConfig { redis_url, options })
}
