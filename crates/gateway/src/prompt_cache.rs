//! Provider prompt caching as the gateway sees it: the route's `[routes.prompt_cache]`
//! setting (raw → validated), the per-request `prompt_cache_key` for OpenAI targets, and the
//! fingerprint of a request's stable prefix (system prompt and tools) that the ledger keeps so
//! the strategy report can find repeated prefixes sent uncached.
//!
//! Where breakpoints go on Anthropic targets is the protocol crate's business
//! (`anthropic::breakpoints`); the adapter applies them. Must never know wire formats beyond
//! the members it hashes.

use serde::Deserialize;
use switchyard_ledger::PromptPrefix;
use switchyard_providers::CacheTtl;

/// `[routes.prompt_cache]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPromptCache {
    anthropic: Option<String>,
    openai_key: Option<bool>,
}

/// A route's provider prompt caching. `Default`: none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PromptCacheConfig {
    /// Anthropic targets: automatic `cache_control` breakpoints with this TTL.
    pub anthropic: Option<CacheTtl>,
    /// OpenAI targets: a `prompt_cache_key` per workload (per route without one) where the
    /// client set none.
    pub openai_key: bool,
}

impl RawPromptCache {
    /// The validated setting, or the message for the field at `path` that is wrong.
    pub(crate) fn validate(self, path: &str) -> Result<PromptCacheConfig, (String, String)> {
        let anthropic = match self.anthropic.as_deref() {
            None => None,
            Some("5m") => Some(CacheTtl::FiveMinutes),
            Some("1h") => Some(CacheTtl::OneHour),
            Some(other) => {
                return Err((
                    format!("{path}.anthropic"),
                    format!(
                        "{other:?} is not a cache TTL; write \"5m\" or \"1h\" (or leave it out for no breakpoints)"
                    ),
                ));
            }
        };
        Ok(PromptCacheConfig {
            anthropic,
            openai_key: self.openai_key.unwrap_or(false),
        })
    }
}

/// The `prompt_cache_key` for a request on `route`: a hash of the route and the caller's
/// workload, so requests sharing a prefix land on the same OpenAI cache machines while the
/// names themselves never leave the gateway.
pub(crate) fn cache_key(route: &str, workload: Option<&str>) -> String {
    let h = fnv(fnv(FNV_OFFSET, route.as_bytes()), &[0]);
    let h = fnv(h, workload.unwrap_or("").as_bytes());
    format!("sy-{h:016x}")
}

/// The `prompt_cache_key` for this request, when its route asks for one.
pub(crate) fn request_key(
    live: &crate::Live,
    route: &str,
    ctx: &crate::RequestContext,
) -> Option<String> {
    let meta = live.route_meta.get(route)?;
    let workload = ctx.workload.as_deref().or(meta.workload.as_deref());
    meta.openai_cache_key.then(|| cache_key(route, workload))
}

/// Prefixes shorter than this (estimated) are not fingerprinted: no provider caches them.
pub const FINGERPRINT_MIN_TOKENS: u64 = 1024;

/// The fingerprint of a request's stable prefix from its parts (system text, tool
/// definitions), in order; `None` when they are too short for any provider to cache.
///
/// The hash is XXH3-64 over the parts, each followed by a zero byte: a specified, stable
/// algorithm (the fingerprint is stored in the ledger), run from the xxhash-rust dependency so
/// it is optimised in every build profile; a byte loop in this crate costs ~40 instructions a
/// byte in debug builds (1.4M on an 8k-token system prompt, the CI guard's rag8k body), and
/// SHA-256 without SHA-NI about as much.
pub(crate) fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Option<PromptPrefix> {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut bytes = 0usize;
    for p in parts {
        h.update(p);
        h.update(&[0]);
        bytes += p.len();
    }
    let tokens = (bytes as u64).div_ceil(4);
    (tokens >= FINGERPRINT_MIN_TOKENS).then(|| PromptPrefix {
        hash: h.digest(),
        tokens,
    })
}

/// An OpenAI chat's stable prefix: its leading system and developer messages' text, then its
/// tools as sent.
pub(crate) fn openai_prefix(
    req: &switchyard_protocol::openai::ChatRequest<'_>,
) -> Option<PromptPrefix> {
    use switchyard_protocol::openai::{Content, Role};
    let system = req
        .messages
        .iter()
        .take_while(|m| matches!(m.role, Role::System | Role::Developer));
    let texts = system.flat_map(|m| match &m.content {
        Some(Content::Text(t)) => vec![t.as_bytes()],
        Some(Content::Parts(ps)) => ps
            .iter()
            .filter_map(|p| p.text.as_deref())
            .map(str::as_bytes)
            .collect(),
        None => Vec::new(),
    });
    let tools = req.raw().get("tools").map(|t| t.get().as_bytes());
    fingerprint(texts.chain(tools))
}

/// A canonical (Anthropic client's) request's stable prefix: its system blocks' text, then
/// each tool's name, description and schema.
pub(crate) fn canonical_prefix(
    req: &switchyard_protocol::canonical::ChatRequest,
) -> Option<PromptPrefix> {
    use switchyard_protocol::canonical::Block;
    let system = req.system.iter().filter_map(|b| match b {
        Block::Text { text, .. } => Some(text.as_bytes()),
        _ => None,
    });
    let tools = req.tools.iter().flat_map(|t| {
        [
            Some(t.name.as_bytes()),
            t.description.as_deref().map(str::as_bytes),
            t.parameters.as_ref().map(|p| p.get().as_bytes()),
        ]
        .into_iter()
        .flatten()
    });
    fingerprint(system.chain(tools))
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over 8-byte words (then the tail bytes): stable across builds and platforms, and
/// about eight times cheaper than byte-wise FNV on long system prompts. Not for security.
fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(PRIME);
        h ^= h >> 29;
    }
    for b in words.remainder() {
        h = (h ^ u64::from(*b)).wrapping_mul(PRIME);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_key_depends_on_route_and_workload_and_hides_both() {
        let a = cache_key("support", Some("billing"));
        assert_eq!(a, cache_key("support", Some("billing")));
        assert_ne!(a, cache_key("support", Some("refunds")));
        assert_ne!(a, cache_key("support", None));
        assert_ne!(cache_key("ab", Some("c")), cache_key("a", Some("bc")));
        assert!(a.starts_with("sy-") && !a.contains("support"));
    }

    #[test]
    fn short_prefixes_get_no_fingerprint_and_equal_ones_match() {
        assert!(fingerprint([b"short".as_slice()]).is_none());
        let long = "x".repeat(5000);
        let a = fingerprint([long.as_bytes(), b"[tools]".as_slice()]);
        assert_eq!(a, fingerprint([long.as_bytes(), b"[tools]".as_slice()]));
        assert_ne!(a, fingerprint([long.as_bytes(), b"[tool2]".as_slice()]));
        assert_eq!(a.map(|p| p.tokens), Some(1252));
    }

    #[test]
    fn an_unknown_ttl_names_the_field() {
        let raw = RawPromptCache {
            anthropic: Some("10m".into()),
            openai_key: None,
        };
        let err = raw.validate("routes[2].prompt_cache");
        assert!(
            matches!(err, Err((p, m)) if p == "routes[2].prompt_cache.anthropic" && m.contains("\"1h\""))
        );
    }
}
