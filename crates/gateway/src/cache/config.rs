//! The exact cache's configuration: the top-level `[cache]` (which store, how large) and each
//! route's `[routes.cache]` (TTL, scope, what may be stored), raw as written, then validated
//! with every problem named by its key path. Must never know the store's internals or the
//! request path.

use crate::config::ConfigError;
use serde::Deserialize;
use std::time::Duration;

/// `[cache]`: the store every cache-enabled route shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// `None` or `"memory"`: in-process; `redis://…`: a shared store.
    pub url: Option<String>,
    /// The in-process store's size bound (keys and values), LRU beyond it.
    pub max_bytes: usize,
}

/// 64 MiB: tens of thousands of typical chat answers.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: None,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// Whose answers a cached entry may serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every caller of the route.
    Global,
    /// Callers of the same team (a key's team, else the `team=` tag).
    Team,
    /// Callers presenting the same virtual key.
    Key,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Team => "team",
            Scope::Key => "key",
        }
    }
}

/// `[routes.cache]`: the exact response cache for one route.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutePolicy {
    pub ttl: Duration,
    pub scope: Scope,
    /// Requests with `temperature > 0` (or none, which defaults to 1) may be cached.
    pub allow_temperature: bool,
    /// Answers cut by the output limit (`finish_reason = "length"`) may be stored.
    pub allow_length: bool,
    /// `[routes.cache.semantic]`: the semantic cache on top of this one; `None`: off.
    pub semantic: Option<super::semantic_config::SemanticPolicy>,
}

pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStore {
    url: Option<String>,
    max_bytes: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoutePolicy {
    enabled: Option<bool>,
    ttl: Option<toml::Value>,
    scope: Option<String>,
    allow_temperature: Option<bool>,
    allow_length: Option<bool>,
    semantic: Option<super::semantic_config::RawSemantic>,
}

pub(crate) fn validate_store(errs: &mut Vec<ConfigError>, raw: RawStore) -> StoreConfig {
    let mut push = |path: &str, message: String| {
        errs.push(ConfigError {
            path: path.into(),
            message,
        })
    };
    let url = raw.url.filter(|u| u != "memory");
    if let Some(u) = &url {
        if !(u.starts_with("redis://") || u.starts_with("rediss://")) {
            push(
                "cache.url",
                format!(
                    "{u:?} is not a cache store; use \"memory\" (the default) or \"redis://host:port[/db]\""
                ),
            );
        }
    }
    let max_bytes = match raw.max_bytes {
        None => DEFAULT_MAX_BYTES,
        Some(n) if n >= 1024 => n as usize,
        Some(n) => {
            push(
                "cache.max_bytes",
                format!(
                    "{n} is too small; give the in-process store's size bound in bytes, at least 1024 (default {DEFAULT_MAX_BYTES})"
                ),
            );
            DEFAULT_MAX_BYTES
        }
    };
    StoreConfig { url, max_bytes }
}

/// `None` when the section is absent or `enabled = false`.
pub(crate) fn validate_route(
    errs: &mut Vec<ConfigError>,
    path: &str,
    raw: RawRoutePolicy,
) -> Option<RoutePolicy> {
    let ttl = match raw.ttl {
        None => DEFAULT_TTL,
        Some(v) => parse_ttl(&v).unwrap_or_else(|message| {
            errs.push(ConfigError {
                path: format!("{path}.cache.ttl"),
                message,
            });
            DEFAULT_TTL
        }),
    };
    let scope = match raw.scope.as_deref() {
        None | Some("key") => Scope::Key,
        Some("team") => Scope::Team,
        Some("global") => Scope::Global,
        Some(other) => {
            errs.push(ConfigError {
                path: format!("{path}.cache.scope"),
                message: format!("{other:?} is not a scope; use \"global\", \"team\" or \"key\""),
            });
            Scope::Key
        }
    };
    let enabled = raw.enabled.unwrap_or(true);
    let semantic = raw.semantic.and_then(|s| {
        let spath = format!("{path}.cache.semantic");
        if !enabled {
            errs.push(ConfigError {
                path: spath,
                message: "the semantic cache serves the exact cache's answers: remove `enabled = false` from [routes.cache], or remove [routes.cache.semantic]".into(),
            });
            return None;
        }
        super::semantic_config::validate(errs, &spath, s)
    });
    enabled.then_some(RoutePolicy {
        ttl,
        scope,
        allow_temperature: raw.allow_temperature.unwrap_or(false),
        allow_length: raw.allow_length.unwrap_or(false),
        semantic,
    })
}

/// A TTL as seconds (`600`) or with a unit (`"90s"`, `"10m"`, `"2h"`, `"7d"`); must be
/// positive and at most 30 days.
fn parse_ttl(v: &toml::Value) -> Result<Duration, String> {
    const HINT: &str = "write seconds (600) or a duration such as \"90s\", \"10m\", \"2h\", \"7d\"";
    let secs = match v {
        toml::Value::Integer(n) => *n,
        toml::Value::String(s) => {
            let s = s.trim();
            let (num, unit) = s.split_at(
                s.find(|c: char| !c.is_ascii_digit() && c != '-')
                    .unwrap_or(s.len()),
            );
            let n: i64 = num
                .parse()
                .map_err(|_| format!("{s:?} is not a duration; {HINT}"))?;
            let scale = match unit.trim() {
                "" | "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                other => return Err(format!("unknown unit {other:?} in {s:?}; {HINT}")),
            };
            n.saturating_mul(scale)
        }
        _ => return Err(format!("must be a number of seconds or a string; {HINT}")),
    };
    if secs <= 0 {
        return Err(format!("must be positive (got {secs} s); {HINT}"));
    }
    if secs > 30 * 86_400 {
        return Err("must be at most 30 days (\"30d\")".into());
    }
    Ok(Duration::from_secs(secs as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(text: &str) -> (Option<RoutePolicy>, Vec<ConfigError>) {
        let raw: RawRoutePolicy = toml::from_str(text).unwrap();
        let mut errs = Vec::new();
        let p = validate_route(&mut errs, "routes[0]", raw);
        (p, errs)
    }

    #[test]
    fn a_route_cache_defaults_to_one_hour_key_scope_and_stores_only_deterministic_complete_answers()
    {
        let (p, errs) = route("");
        assert!(errs.is_empty());
        let p = p.unwrap();
        assert_eq!((p.ttl, p.scope), (DEFAULT_TTL, Scope::Key));
        assert!(!p.allow_temperature && !p.allow_length);
    }

    #[test]
    fn ttls_take_seconds_or_units_and_refuse_zero_and_negative_values_naming_the_field() {
        assert_eq!(
            route("ttl = \"10m\"").0.unwrap().ttl,
            Duration::from_secs(600)
        );
        assert_eq!(route("ttl = 90").0.unwrap().ttl, Duration::from_secs(90));
        for bad in [
            "ttl = -5",
            "ttl = 0",
            "ttl = \"-1h\"",
            "ttl = \"5y\"",
            "ttl = \"31d\"",
        ] {
            let (_, errs) = route(bad);
            assert_eq!(errs.len(), 1, "{bad}");
            assert_eq!(errs[0].path, "routes[0].cache.ttl", "{bad}");
        }
    }

    #[test]
    fn an_unknown_scope_is_refused_with_the_valid_ones() {
        let (_, errs) = route("scope = \"tenant\"");
        assert_eq!(errs[0].path, "routes[0].cache.scope");
        assert!(errs[0].message.contains("\"global\", \"team\" or \"key\""));
    }

    #[test]
    fn enabled_false_keeps_the_section_but_turns_the_cache_off() {
        assert_eq!(route("enabled = false\nscope = \"team\"").0, None);
    }

    #[test]
    fn a_semantic_cache_without_the_exact_cache_is_refused_naming_the_table() {
        let (p, errs) = route("enabled = false\n[semantic]\nembedder = \"embed\"");
        assert_eq!(p, None);
        assert_eq!(errs[0].path, "routes[0].cache.semantic");
        let (p, errs) = route("[semantic]\nembedder = \"embed\"\nmin_similarity = 0.8");
        assert!(errs.is_empty());
        assert_eq!(p.unwrap().semantic.unwrap().engine.min_similarity, 0.8);
    }

    #[test]
    fn store_urls_other_than_memory_and_redis_are_refused() {
        let raw: RawStore = toml::from_str("url = \"memcached://x\"\nmax_bytes = 10").unwrap();
        let mut errs = Vec::new();
        validate_store(&mut errs, raw);
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["cache.url", "cache.max_bytes"]);
    }
}
