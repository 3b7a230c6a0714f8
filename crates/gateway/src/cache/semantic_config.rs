//! `[routes.cache.semantic]`: the semantic cache on top of a route's exact cache, raw as
//! written, then validated with every problem named by its key path. The engine's own settings
//! (`min_similarity`, bounds, precision) are validated by `switchyard_semantic`; this module
//! adds what only the gateway knows: which embedder, and whether hits are served or only
//! logged. Whether an embedder route exists is checked once every route is known
//! ([`check_embedders`]). Must never know the request path.

use crate::config::ConfigError;
use serde::Deserialize;

/// The built-in all-MiniLM-L6-v2 embedder's name (as in the evaluation's embedding scorer).
pub const LOCAL_MINILM: &str = "local:minilm";

/// What embeds the last user turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Embedder {
    /// An embeddings route of this gateway, called in-process (its own ledger record).
    Route(String),
    /// The built-in `local:minilm` (only in builds with `--features local-embeddings`).
    LocalMiniLm,
}

/// Serve semantic hits, or only log and count what would have been served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Serve,
    Shadow,
}

/// The validated `[routes.cache.semantic]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticPolicy {
    pub embedder: Embedder,
    pub mode: Mode,
    pub engine: switchyard_semantic::Config,
}

/// As written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSemantic {
    embedder: Option<String>,
    mode: Option<String>,
    min_similarity: Option<f64>,
    max_entries: Option<i64>,
    max_bytes: Option<i64>,
    precision: Option<String>,
    candidates: Option<i64>,
    max_text_chars: Option<i64>,
}

/// Validates the table at `path` (`routes[0].cache.semantic`); `None` when it has errors.
pub(crate) fn validate(
    errs: &mut Vec<ConfigError>,
    path: &str,
    raw: RawSemantic,
) -> Option<SemanticPolicy> {
    let mut push = |field: &str, message: String| {
        errs.push(ConfigError {
            path: format!("{path}.{field}"),
            message,
        })
    };
    let embedder = embedder(raw.embedder.as_deref())
        .map_err(|message| push("embedder", message))
        .ok();
    let mode = match raw.mode.as_deref() {
        None | Some("serve") => Mode::Serve,
        Some("shadow") => Mode::Shadow,
        Some(other) => {
            push(
                "mode",
                format!("{other:?} is not a mode; use \"serve\" or \"shadow\""),
            );
            Mode::Serve
        }
    };
    let engine = switchyard_semantic::RawConfig {
        min_similarity: raw.min_similarity,
        max_entries: raw.max_entries,
        max_bytes: raw.max_bytes,
        precision: raw.precision,
        candidates: raw.candidates,
        max_text_chars: raw.max_text_chars,
    };
    let engine = match engine.validate(path) {
        Ok(c) => Some(c),
        Err(list) => {
            errs.extend(list.into_iter().map(|e| ConfigError {
                path: e.field,
                message: e.message,
            }));
            None
        }
    };
    Some(SemanticPolicy {
        embedder: embedder?,
        mode,
        engine: engine?,
    })
}

fn embedder(raw: Option<&str>) -> Result<Embedder, String> {
    match raw.map(str::trim) {
        None | Some("") => Err(
            "is required: name an embeddings route of this config (or \"local:minilm\")".into(),
        ),
        Some(LOCAL_MINILM) if !local_minilm_built() => Err(
            "\"local:minilm\" needs a build with the local model: `cargo build -p switchyard-cli --features local-embeddings`; or name an embeddings route".into(),
        ),
        Some(LOCAL_MINILM) => Ok(Embedder::LocalMiniLm),
        Some(name) => Ok(Embedder::Route(name.to_owned())),
    }
}

/// Whether this build carries the local model (the gateway's `local-embeddings` feature,
/// which the cli's feature of the same name turns on).
fn local_minilm_built() -> bool {
    cfg!(feature = "local-embeddings")
}

/// Every semantic cache's embedder route must be a route of the config: `routes` gives each
/// route's path, name and its semantic policy.
pub(crate) fn check_embedders<'a>(
    errs: &mut Vec<ConfigError>,
    routes: impl Iterator<Item = (String, Option<&'a SemanticPolicy>)>,
    names: &[&str],
) {
    for (path, policy) in routes {
        let Some(SemanticPolicy {
            embedder: Embedder::Route(name),
            ..
        }) = policy
        else {
            continue;
        };
        if !names.contains(&name.as_str()) {
            errs.push(ConfigError {
                path: format!("{path}.cache.semantic.embedder"),
                message: format!(
                    "no route is named {name:?}: name an embeddings route of this config (routes: {})",
                    names.join(", ")
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn semantic(text: &str) -> (Option<SemanticPolicy>, Vec<ConfigError>) {
        let raw: RawSemantic = toml::from_str(text).unwrap();
        let mut errs = Vec::new();
        let p = validate(&mut errs, "routes[0].cache.semantic", raw);
        (p, errs)
    }

    #[test]
    fn a_semantic_table_defaults_to_serve_mode_and_the_engine_threshold() {
        let (p, errs) = semantic("embedder = \"embed\"");
        assert!(errs.is_empty(), "{errs:?}");
        let p = p.unwrap();
        assert_eq!(p.embedder, Embedder::Route("embed".into()));
        assert_eq!(p.mode, Mode::Serve);
        assert_eq!(
            p.engine.min_similarity,
            switchyard_semantic::config::DEFAULT_MIN_SIMILARITY
        );
    }

    #[test]
    fn a_threshold_outside_0_1_an_unknown_mode_and_no_embedder_are_each_named() {
        let (p, errs) = semantic("min_similarity = 1.2\nmode = \"maybe\"");
        assert!(p.is_none());
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "routes[0].cache.semantic.embedder",
                "routes[0].cache.semantic.mode",
                "routes[0].cache.semantic.min_similarity",
            ]
        );
    }

    #[test]
    fn local_minilm_is_refused_naming_the_field_in_a_build_without_the_model() {
        let (p, errs) = semantic("embedder = \"local:minilm\"");
        if local_minilm_built() {
            assert_eq!(p.unwrap().embedder, Embedder::LocalMiniLm);
        } else {
            assert_eq!(errs[0].path, "routes[0].cache.semantic.embedder");
            assert!(errs[0].message.contains("--features local-embeddings"));
        }
    }
}
