//! `[telemetry]`: OpenTelemetry traces over OTLP HTTP/protobuf. Absent (or `enabled = false`):
//! no spans are made and the request path does nothing for them. Owns parsing and validation
//! only; `switchyard_telemetry::trace` builds and exports the spans.

use super::Errors;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The validated `[telemetry]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryConfig {
    /// Where spans are posted: the configured URL, with `/v1/traces` appended unless it
    /// already ends so (the OTLP/HTTP convention for a base endpoint).
    pub traces_url: String,
    pub service_name: String,
    /// The share of new traces kept (a client's `traceparent` decides for its own).
    pub sampling_ratio: f64,
    /// Request headers sent with each export (`headers_env`: header name → the environment
    /// variable holding its value, e.g. an API key).
    pub headers_env: Vec<(String, String)>,
    pub export_timeout: Duration,
    pub batch_size: usize,
    pub batch_interval: Duration,
    pub queue_size: usize,
    /// Export prompts and completions, redacted with `[eval] redact_patterns` and the
    /// built-in masks. Off by default.
    pub capture_content: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTelemetry {
    enabled: Option<bool>,
    otlp_endpoint: Option<String>,
    service_name: Option<String>,
    sampling_ratio: Option<f64>,
    headers_env: Option<BTreeMap<String, String>>,
    /// Refused with a message: header values (API keys) belong in the environment.
    headers: Option<toml::Value>,
    export_timeout_ms: Option<u64>,
    batch_size: Option<u64>,
    batch_interval_ms: Option<u64>,
    queue_size: Option<u64>,
    capture_content: Option<bool>,
}

const DEFAULT_TIMEOUT_MS: u64 = 10_000;
const DEFAULT_BATCH: u64 = 512;
const DEFAULT_INTERVAL_MS: u64 = 5_000;
const DEFAULT_QUEUE: u64 = 2_048;

fn endpoint(errs: &mut Errors, raw: Option<String>) -> String {
    let path = "telemetry.otlp_endpoint";
    let Some(url) = raw else {
        errs.push(path, "is required: the collector's OTLP/HTTP address, e.g. \"http://127.0.0.1:4318\" (spans go to its /v1/traces)");
        return String::new();
    };
    let ok = url
        .parse::<http::Uri>()
        .ok()
        .filter(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.authority().is_some());
    if ok.is_none() {
        errs.push(
            path,
            format!(
                "{url:?} is not an http:// or https:// URL; write it like \"http://127.0.0.1:4318\""
            ),
        );
        return String::new();
    }
    let base = url.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_string()
    } else {
        format!("{base}/v1/traces")
    }
}

fn headers(errs: &mut Errors, raw: Option<BTreeMap<String, String>>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, var) in raw.unwrap_or_default() {
        let path = format!("telemetry.headers_env.{name}");
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            errs.push(path, format!("{name:?} is not an HTTP header name"));
        } else if !super::metrics::env_name(&var) {
            errs.push(path, "must name an environment variable (letters, digits and _, e.g. \"OTLP_API_KEY\"), never the header's value itself");
        } else {
            out.push((name.to_ascii_lowercase(), var));
        }
    }
    out
}

fn bounded(errs: &mut Errors, field: &str, raw: Option<u64>, default: u64, max: u64) -> u64 {
    match raw {
        None => default,
        Some(n) if (1..=max).contains(&n) => n,
        Some(_) => {
            errs.push(
                format!("telemetry.{field}"),
                format!("must be between 1 and {max}; the default is {default}"),
            );
            default
        }
    }
}

fn ratio(errs: &mut Errors, raw: Option<f64>) -> f64 {
    match raw {
        None => 1.0,
        Some(r) if (0.0..=1.0).contains(&r) => r,
        Some(r) => {
            errs.push(
                "telemetry.sampling_ratio",
                format!("{r} is outside 0..1: 1 traces every request, 0.1 one new trace in ten"),
            );
            1.0
        }
    }
}

pub(super) fn validate(errs: &mut Errors, raw: Option<RawTelemetry>) -> Option<TelemetryConfig> {
    let raw = raw?;
    if raw.enabled == Some(false) {
        return None;
    }
    if raw.headers.is_some() {
        errs.push("telemetry.headers", "header values (API keys) are never written in the config: export them and name the variables with headers_env = { authorization = \"OTLP_AUTH\" }");
    }
    let traces_url = endpoint(errs, raw.otlp_endpoint);
    let sampling_ratio = ratio(errs, raw.sampling_ratio);
    let service_name = raw.service_name.unwrap_or_else(|| "switchyard".into());
    if service_name.trim().is_empty() || service_name.len() > 128 {
        errs.push(
            "telemetry.service_name",
            "must be 1 to 128 characters (the service.name spans carry)",
        );
    }
    let queue_size = bounded(errs, "queue_size", raw.queue_size, DEFAULT_QUEUE, 1_000_000);
    let batch_size = bounded(errs, "batch_size", raw.batch_size, DEFAULT_BATCH, 65_536);
    if batch_size > queue_size {
        errs.push("telemetry.batch_size", format!("{batch_size} is larger than queue_size ({queue_size}); a batch is taken from the queue"));
    }
    let timeout = bounded(
        errs,
        "export_timeout_ms",
        raw.export_timeout_ms,
        DEFAULT_TIMEOUT_MS,
        120_000,
    );
    let interval = bounded(
        errs,
        "batch_interval_ms",
        raw.batch_interval_ms,
        DEFAULT_INTERVAL_MS,
        600_000,
    );
    Some(TelemetryConfig {
        traces_url,
        service_name,
        sampling_ratio,
        headers_env: headers(errs, raw.headers_env),
        export_timeout: Duration::from_millis(timeout),
        batch_size: batch_size as usize,
        batch_interval: Duration::from_millis(interval),
        queue_size: queue_size as usize,
        capture_content: raw.capture_content.unwrap_or(false),
    })
}

/// Each `headers_env` variable that is not set.
pub(super) fn missing_env(
    t: &TelemetryConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<super::ConfigError> {
    t.headers_env
        .iter()
        .filter(|(_, var)| env(var).filter(|v| !v.trim().is_empty()).is_none())
        .map(|(name, var)| super::ConfigError {
            path: format!("telemetry.headers_env.{name}"),
            message: format!("environment variable {var} is not set; export it with the {name} header's value the collector expects"),
        })
        .collect()
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
    fn traces_are_off_without_the_section_and_defaults_follow_the_otel_sdk() {
        assert!(Config::from_toml("").unwrap().telemetry.is_none());
        let t = Config::from_toml("[telemetry]\notlp_endpoint = \"http://127.0.0.1:4318/\"")
            .unwrap()
            .telemetry
            .unwrap();
        assert_eq!(t.traces_url, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(
            (t.sampling_ratio, t.batch_size, t.queue_size),
            (1.0, 512, 2048)
        );
        assert_eq!(t.export_timeout.as_millis(), 10_000);
        assert!(!t.capture_content);
        let full = "[telemetry]\notlp_endpoint = \"https://otel.example/v1/traces\"";
        let t = Config::from_toml(full).unwrap().telemetry.unwrap();
        assert_eq!(t.traces_url, "https://otel.example/v1/traces");
        let off = "[telemetry]\nenabled = false\notlp_endpoint = \"nonsense\"";
        assert!(Config::from_toml(off).unwrap().telemetry.is_none());
    }

    #[test]
    fn every_malformed_telemetry_key_is_reported_at_once_by_its_path() {
        let errs = errors(concat!(
            "[telemetry]\notlp_endpoint = \"collector:4318\"\nsampling_ratio = 1.5\n",
            "headers = { authorization = \"Bearer s3cret\" }\n",
            "headers_env = { \"bad header\" = \"X\", authorization = \"Bearer s3cret\" }\n",
            "batch_size = 0\nexport_timeout_ms = 0\n",
        ));
        let paths: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "telemetry.headers",
                "telemetry.otlp_endpoint",
                "telemetry.sampling_ratio",
                "telemetry.batch_size",
                "telemetry.export_timeout_ms",
                "telemetry.headers_env.authorization",
                "telemetry.headers_env.bad header",
            ],
            "{errs:?}"
        );
        assert!(
            errs.iter().all(|(_, m)| !m.contains("s3cret")),
            "no secret is echoed"
        );
        let missing = errors("[telemetry]\nservice_name = \"gw\"\n");
        assert_eq!(missing[0].0, "telemetry.otlp_endpoint");
        let unknown = errors("[telemetry]\notlp_endpoint = \"http://c:4318\"\nsurprise = 1\n");
        assert!(unknown[0].1.contains("surprise"), "{unknown:?}");
        let big = errors(
            "[telemetry]\notlp_endpoint = \"http://c:4318\"\nqueue_size = 10\nbatch_size = 20\n",
        );
        assert_eq!(big[0].0, "telemetry.batch_size");
    }

    #[test]
    fn an_unset_header_variable_is_reported_by_config_check() {
        let c = Config::from_toml(
            "[telemetry]\notlp_endpoint = \"http://c:4318\"\nheaders_env = { authorization = \"OTLP_AUTH\" }",
        )
        .unwrap();
        let missing = c.missing_env(&|_| None);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].path, "telemetry.headers_env.authorization");
        assert!(missing[0].message.contains("OTLP_AUTH"));
        assert!(c.missing_env(&|_| Some("Bearer x".into())).is_empty());
    }
}
