//! The caller's attribution (workload, tags) as the gateway accepts and records it.
//!
//! Workload names and tag keys are identifiers: a control character in one is refused with a
//! 400 naming the header. Every client-supplied string that reaches a ledger record or the
//! eval store (route as asked for, workload, tags, team) is bounded there: at most
//! [`MAX_TEXT_BYTES`](switchyard_protocol::MAX_TEXT_BYTES) bytes (tag keys
//! [`MAX_TAG_KEY_BYTES`]), cut at a char boundary and marked `…`, control characters escaped.

use crate::reply::RequestContext;
use switchyard_protocol::{FieldError, bounded, bounded_to, check_identifier};

/// The header a workload name arrives in, named in its errors.
pub const WORKLOAD_HEADER: &str = "x-switchyard-workload";
/// The header tags arrive in, named in their errors.
pub const TAGS_HEADER: &str = "x-switchyard-tags";
/// The longest tag key recorded.
pub const MAX_TAG_KEY_BYTES: usize = 64;

/// Refuses a workload or a tag key holding a control character.
pub(crate) fn check(ctx: &RequestContext) -> Result<(), FieldError> {
    if let Some(w) = &ctx.workload {
        check_identifier(WORKLOAD_HEADER, w)?;
    }
    for (k, _) in &ctx.tags {
        check_identifier(TAGS_HEADER, k)?;
    }
    Ok(())
}

/// `s` as a record stores it.
pub(crate) fn recorded(s: &str) -> String {
    bounded(s).into_owned()
}

/// The tags as a record stores them.
pub(crate) fn recorded_tags(tags: &[(String, String)]) -> Vec<(String, String)> {
    tags.iter()
        .map(|(k, v)| (bounded_to(k, MAX_TAG_KEY_BYTES).into_owned(), recorded(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_workloads_and_tag_keys_are_refused_by_header() {
        let ctx = RequestContext::new(Some("batch\u{0}".into()), Vec::new());
        assert_eq!(
            check(&ctx).unwrap_err().param.as_deref(),
            Some(WORKLOAD_HEADER)
        );
        let ctx = RequestContext::new(None, vec![("te\tam".into(), "x".into())]);
        assert_eq!(check(&ctx).unwrap_err().param.as_deref(), Some(TAGS_HEADER));
        let ctx = RequestContext::new(Some("batch".into()), vec![("team".into(), "a\tb".into())]);
        assert!(
            check(&ctx).is_ok(),
            "tag values are text, escaped when recorded"
        );
    }

    #[test]
    fn recorded_tags_are_bounded_and_escaped() {
        let tags = recorded_tags(&[("k".repeat(500), format!("v\t{}", "é".repeat(500)))]);
        assert!(tags[0].0.len() <= MAX_TAG_KEY_BYTES && tags[0].0.ends_with('…'));
        assert!(tags[0].1.len() <= 256 && tags[0].1.starts_with("v\\u{9}"));
    }
}
