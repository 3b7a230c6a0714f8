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

#[cfg(test)]
mod tests {
    use crate::Config;
    use std::time::Duration;

    fn paths(toml: &str) -> Vec<String> {
        match Config::from_toml(toml) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.into_iter().map(|e| e.path).collect(),
        }
    }

    #[test]
    fn no_fleet_section_means_in_process_governance() {
        assert!(Config::from_toml("").unwrap().fleet.is_none());
    }

    #[test]
    fn a_fleet_section_parses_with_defaults_for_what_it_omits() {
        let c = Config::from_toml(
            "[fleet]\nredis_url = \"redis://:pw@10.0.0.5:6379/2\"\nfail_closed = true\nlease_ms = 120000\n",
        )
        .unwrap();
        let f = c.fleet.unwrap();
        assert_eq!(f.redis_url, "redis://:pw@10.0.0.5:6379/2");
        assert!(f.options.fail_closed);
        assert_eq!(f.options.lease, Duration::from_secs(120));
        assert_eq!(f.options.heartbeat, Duration::from_secs(1));
        assert_eq!(f.options.prefix, "switchyard:gov:");
    }

    #[test]
    fn every_fleet_problem_is_reported_with_its_key() {
        let got = paths(
            "[fleet]\nlease_ms = 5\nheartbeat_ms = 0\nprefix = \"a|b\"\nreplica_id = \"x:y\"\n",
        );
        assert_eq!(
            got,
            [
                "fleet.lease_ms",
                "fleet.heartbeat_ms",
                "fleet.prefix",
                "fleet.replica_id",
                "fleet.redis_url"
            ]
        );
        assert_eq!(
            paths("[fleet]\nredis_url = \"rediss://h:1\"\n"),
            ["fleet.redis_url"]
        );
        assert_eq!(paths("[fleet]\nredis = \"redis://h:1\"\n"), ["fleet"]);
    }
}
