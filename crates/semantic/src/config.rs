//! The semantic cache's settings: [`RawConfig`] as read from a route's `cache.semantic` table,
//! validated into [`Config`] with every error naming its field path. Knows no embedders.

use crate::index::Limits;
use crate::vectors::Precision;
use serde::Deserialize;

/// The default `min_similarity`, chosen on the labelled set with all-MiniLM-L6-v2: the upper
/// 95% Wilson bound of the false-hit rate is ≤ 1% from 0.87 up (with no margin there), and 0.90
/// is the lowest threshold with no false hit (bound 0.5%). See docs/caching.md.
pub const DEFAULT_MIN_SIMILARITY: f32 = 0.90;

/// Default bound on entries across all partitions.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

/// Default bound on the index's bytes (vectors, facts, bookkeeping).
pub const DEFAULT_MAX_BYTES: usize = 256 << 20;

/// Default number of nearest entries checked against the guards per lookup.
pub const DEFAULT_CANDIDATES: usize = 4;

/// Default longest text looked up: all-MiniLM-L6-v2 reads 256 word pieces and drops the rest,
/// so two long texts differing only after that would look identical.
pub const DEFAULT_MAX_TEXT_CHARS: usize = 1000;

/// Settings as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub min_similarity: Option<f64>,
    pub max_entries: Option<i64>,
    pub max_bytes: Option<i64>,
    pub precision: Option<String>,
    pub candidates: Option<i64>,
    pub max_text_chars: Option<i64>,
}

/// Validated settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Cosine similarity (0..=1) a candidate needs to be served.
    pub min_similarity: f32,
    pub limits: Limits,
    pub precision: Precision,
    /// Nearest entries checked against the guards; the best that passes is served.
    pub candidates: usize,
    /// Longer texts are not looked up (nor stored).
    pub max_text_chars: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            min_similarity: DEFAULT_MIN_SIMILARITY,
            limits: Limits {
                max_entries: DEFAULT_MAX_ENTRIES,
                max_bytes: DEFAULT_MAX_BYTES,
            },
            precision: Precision::F32,
            candidates: DEFAULT_CANDIDATES,
            max_text_chars: DEFAULT_MAX_TEXT_CHARS,
        }
    }
}

/// One invalid setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// Full field path, e.g. `routes.support.cache.semantic.min_similarity`.
    pub field: String,
    pub message: String,
}

impl RawConfig {
    /// Validates every field; `path` is this table's own path, prefixed to each error's field.
    pub fn validate(&self, path: &str) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut err = |field: &str, message: String| {
            errors.push(ConfigError {
                field: format!("{path}.{field}"),
                message,
            });
        };
        let defaults = Config::default();
        let min_similarity = match self.min_similarity {
            None => defaults.min_similarity,
            Some(v) if (0.0..=1.0).contains(&v) => v as f32,
            Some(v) => {
                err(
                    "min_similarity",
                    format!(
                        "{v} is outside 0..1: use a cosine similarity such as {DEFAULT_MIN_SIMILARITY}"
                    ),
                );
                defaults.min_similarity
            }
        };
        let mut positive = |field: &str, value: Option<i64>, default: usize| match value {
            None => default,
            Some(v) if v > 0 => usize::try_from(v).unwrap_or(usize::MAX),
            Some(v) => {
                err(
                    field,
                    format!("{v} must be a positive whole number (default {default})"),
                );
                default
            }
        };
        let max_entries = positive("max_entries", self.max_entries, DEFAULT_MAX_ENTRIES);
        let max_bytes = positive("max_bytes", self.max_bytes, DEFAULT_MAX_BYTES);
        let candidates = positive("candidates", self.candidates, DEFAULT_CANDIDATES);
        let max_text_chars = positive(
            "max_text_chars",
            self.max_text_chars,
            DEFAULT_MAX_TEXT_CHARS,
        );
        let precision = match self.precision.as_deref() {
            None | Some("f32") => Precision::F32,
            Some("i8") => Precision::I8,
            Some(other) => {
                err(
                    "precision",
                    format!("unknown precision `{other}`: use `f32` or `i8`"),
                );
                Precision::F32
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            min_similarity,
            limits: Limits {
                max_entries,
                max_bytes,
            },
            precision,
            candidates,
            max_text_chars,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invalid_field_is_reported_with_its_path() {
        let raw = RawConfig {
            min_similarity: Some(1.5),
            max_entries: Some(0),
            max_bytes: Some(-1),
            precision: Some("f16".into()),
            candidates: Some(-2),
            max_text_chars: Some(0),
        };
        let errors = raw.validate("routes.support.cache.semantic").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "routes.support.cache.semantic.min_similarity",
                "routes.support.cache.semantic.max_entries",
                "routes.support.cache.semantic.max_bytes",
                "routes.support.cache.semantic.candidates",
                "routes.support.cache.semantic.max_text_chars",
                "routes.support.cache.semantic.precision",
            ]
        );
        assert!(errors[0].to_string().contains("outside 0..1"));
    }

    #[test]
    fn an_empty_table_gives_the_defaults() {
        assert_eq!(
            RawConfig::default().validate("s").unwrap(),
            Config::default()
        );
        let cfg = RawConfig {
            min_similarity: Some(0.0),
            precision: Some("i8".into()),
            ..RawConfig::default()
        };
        let cfg = cfg.validate("s").unwrap();
        assert_eq!((cfg.min_similarity, cfg.precision), (0.0, Precision::I8));
    }

    #[test]
    fn unknown_fields_are_refused_when_parsed() {
        let parsed: Result<RawConfig, _> = serde_json::from_str(r#"{"min_similarty": 0.9}"#);
        assert!(parsed.unwrap_err().to_string().contains("min_similarty"));
    }
}
