//! `[metrics]`: the Prometheus endpoint. Absent (or `enabled = false`): no `/metrics` at all.
//! Present: `GET /metrics` on the main listener, or on `listen` alone; with `token_env`, only
//! a caller presenting that variable's value as a bearer token may scrape. Owns parsing and
//! validation only; `switchyard_telemetry` counts and the server serves.

use super::Errors;
use serde::Deserialize;
use std::net::SocketAddr;

/// Workloads labelled by name before the rest are `other` (unless the config declares them).
pub const DEFAULT_MAX_WORKLOADS: usize = 100;
const MAX_WORKLOADS_LIMIT: u64 = 10_000;

/// The validated `[metrics]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// A separate listener for `/metrics` only; `None`: the main listener serves it.
    pub listen: Option<SocketAddr>,
    /// The environment variable holding the scrape token; `None`: no token asked.
    pub token_env: Option<String>,
    pub max_workloads: usize,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetrics {
    enabled: Option<bool>,
    listen: Option<String>,
    token_env: Option<String>,
    /// Refused with a message: a token is a secret and belongs in the environment.
    token: Option<toml::Value>,
    max_workloads: Option<u64>,
}

/// A plausible environment variable name (never a token pasted in by mistake).
pub(super) fn env_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !v.starts_with(|c: char| c.is_ascii_digit())
}

pub(super) fn validate(
    errs: &mut Errors,
    raw: Option<RawMetrics>,
    main: SocketAddr,
) -> Option<MetricsConfig> {
    let raw = raw?;
    if raw.token.is_some() {
        errs.push(
            "metrics.token",
            "a token is a secret and is never written in the config: export it and name the variable with token_env = \"SWITCHYARD_METRICS_TOKEN\"",
        );
    }
    let listen = raw.listen.and_then(|l| match l.parse::<SocketAddr>() {
        Ok(a) if a == main => {
            errs.push(
                "metrics.listen",
                format!("{l:?} is server.listen; omit metrics.listen to serve /metrics on the main listener, or give another port"),
            );
            None
        }
        Ok(a) => Some(a),
        Err(_) => {
            errs.push(
                "metrics.listen",
                format!("{l:?} is not an address; write it like \"127.0.0.1:9464\""),
            );
            None
        }
    });
    let token_env = raw.token_env.filter(|v| {
        let ok = env_name(v);
        if !ok {
            errs.push(
                "metrics.token_env",
                "must name an environment variable (letters, digits and _, e.g. \"SWITCHYARD_METRICS_TOKEN\"), never the token itself",
            );
        }
        ok
    });
    let max_workloads = match raw.max_workloads {
        None => DEFAULT_MAX_WORKLOADS,
        Some(n) if (1..=MAX_WORKLOADS_LIMIT).contains(&n) => n as usize,
        Some(_) => {
            errs.push(
                "metrics.max_workloads",
                format!("must be between 1 and {MAX_WORKLOADS_LIMIT} (each workload adds series); the default is {DEFAULT_MAX_WORKLOADS}"),
            );
            DEFAULT_MAX_WORKLOADS
        }
    };
    if raw.enabled == Some(false) {
        return None;
    }
    Some(MetricsConfig {
        listen,
        token_env,
        max_workloads,
    })
}

#[cfg(test)]
mod tests {
    use crate::Config;

    fn errors(text: &str) -> Vec<(String, String)> {
        match Config::from_toml(text) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.into_iter().map(|e| (e.path, e.message)).collect(),
        }
    }

    #[test]
    fn metrics_are_off_without_the_section_and_on_with_it() {
        assert!(Config::from_toml("").unwrap().metrics.is_none());
        let on = Config::from_toml("[metrics]").unwrap().metrics.unwrap();
        assert_eq!(
            (on.listen, on.token_env, on.max_workloads),
            (None, None, 100)
        );
        let off = Config::from_toml("[metrics]\nenabled = false\nlisten = \"127.0.0.1:9464\"");
        assert!(off.unwrap().metrics.is_none());
    }

    #[test]
    fn every_malformed_metrics_key_is_reported_at_once_by_its_path() {
        let errs = errors(
            "[server]\nlisten = \"127.0.0.1:8080\"\n[metrics]\nlisten = \"127.0.0.1:8080\"\ntoken = \"s3cret-token\"\ntoken_env = \"sk-abc def\"\nmax_workloads = 0\n",
        );
        let paths: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "metrics.token",
                "metrics.listen",
                "metrics.token_env",
                "metrics.max_workloads"
            ],
            "{errs:?}"
        );
        assert!(
            errs.iter().all(|(_, m)| !m.contains("s3cret-token")),
            "no secret is echoed"
        );
        assert!(errs[0].1.contains("token_env"));
        let bad = errors("[metrics]\nlisten = \"localhost\"\nsurprise = 1\n");
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert!(bad[0].1.contains("surprise"), "{bad:?}");
        let addr = errors("[metrics]\nlisten = \"nowhere\"\n");
        assert_eq!(addr[0].0, "metrics.listen");
        assert!(addr[0].1.contains("127.0.0.1:9464"));
    }

    #[test]
    fn an_unset_token_variable_is_reported_like_a_missing_provider_key() {
        let c = Config::from_toml("[metrics]\ntoken_env = \"SCRAPE_TOKEN\"").unwrap();
        let missing = c.missing_env(&|_| None);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].path, "metrics.token_env");
        assert!(missing[0].message.contains("SCRAPE_TOKEN"));
        assert!(c.missing_env(&|_| Some("t0k3n".into())).is_empty());
    }
}
