//! `[batch]`: limits of the batch API (`/v1/files`, `/v1/batches`) and how many of a batch's
//! lines run at once. Owns only parsing and validation; the batch crate reads the result.

use super::Errors;
use serde::Deserialize;
use std::time::Duration;

/// OpenAI's own bounds: 200 MB per input file, 50,000 requests per batch.
pub const DEFAULT_MAX_FILE_BYTES: usize = 200 * 1024 * 1024;
pub const DEFAULT_MAX_LINES: usize = 50_000;
pub const DEFAULT_CONCURRENCY: usize = 4;

/// The validated `[batch]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchConfig {
    /// Largest upload `POST /v1/files` accepts (its own limit, not `server.max_body_bytes`).
    pub max_file_bytes: usize,
    /// Most lines one batch may hold.
    pub max_lines: usize,
    /// Lines of all batches in flight at once through the gateway's pipeline.
    pub concurrency: usize,
    /// How often a provider batch carrying lines is polled.
    pub poll_interval: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_lines: DEFAULT_MAX_LINES,
            concurrency: DEFAULT_CONCURRENCY,
            poll_interval: Duration::from_secs(30),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBatch {
    max_file_bytes: Option<u64>,
    max_lines: Option<u64>,
    concurrency: Option<u64>,
    poll_interval_ms: Option<u64>,
}

pub(super) fn validate(errs: &mut Errors, raw: RawBatch) -> BatchConfig {
    let mut out = BatchConfig::default();
    // The whole file is held in memory while it is checked and stored.
    const FILE_CAP: u64 = 1024 * 1024 * 1024;
    if let Some(n) = raw.max_file_bytes {
        match usize::try_from(n) {
            Ok(v) if (1..=FILE_CAP).contains(&n) => out.max_file_bytes = v,
            _ => errs.push(
                "batch.max_file_bytes",
                format!("must be between 1 and {FILE_CAP} (1 GiB); the default is {DEFAULT_MAX_FILE_BYTES} (200 MB, as OpenAI)"),
            ),
        }
    }
    if let Some(n) = raw.max_lines {
        match usize::try_from(n) {
            Ok(v) if (1..=1_000_000).contains(&n) => out.max_lines = v,
            _ => errs.push(
                "batch.max_lines",
                format!(
                    "must be between 1 and 1000000; the default is {DEFAULT_MAX_LINES} (as OpenAI)"
                ),
            ),
        }
    }
    if let Some(n) = raw.concurrency {
        match usize::try_from(n) {
            Ok(v) if (1..=1024).contains(&n) => out.concurrency = v,
            _ => errs.push(
                "batch.concurrency",
                format!("must be between 1 and 1024; the default is {DEFAULT_CONCURRENCY}"),
            ),
        }
    }
    match raw.poll_interval_ms {
        Some(ms) if (10..=3_600_000).contains(&ms) => out.poll_interval = Duration::from_millis(ms),
        Some(_) => errs.push(
            "batch.poll_interval_ms",
            "must be between 10 and 3600000 (an hour); the default is 30000",
        ),
        None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::Config;

    #[test]
    fn batch_section_defaults_to_openai_limits() {
        let c = Config::from_toml("").map_err(|e| e.to_string());
        let c = c.as_ref().map(|c| &c.batch);
        assert_eq!(c.ok(), Some(&super::BatchConfig::default()));
        assert_eq!(
            super::BatchConfig::default().max_file_bytes,
            200 * 1024 * 1024
        );
    }

    #[test]
    fn batch_section_errors_name_each_field() {
        let text = "[batch]\nmax_file_bytes = 0\nmax_lines = 0\nconcurrency = 5000\n";
        let Err(e) = Config::from_toml(text) else {
            panic!("accepted an invalid [batch]");
        };
        let paths: Vec<&str> = e.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "batch.max_file_bytes",
                "batch.max_lines",
                "batch.concurrency"
            ]
        );
    }

    #[test]
    fn batch_section_refuses_unknown_keys() {
        let Err(e) = Config::from_toml("[batch]\nworkers = 3\n") else {
            panic!("accepted an unknown key");
        };
        assert_eq!(e.0[0].path, "batch");
        assert!(e.0[0].message.contains("workers"), "{}", e.0[0].message);
    }
}
