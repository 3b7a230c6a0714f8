//! The semantic index across a config reload: a reload assembles every route afresh, and a
//! route whose semantic policy is unchanged takes over the previous configuration's index
//! (its entries and counters) instead of starting empty. "Unchanged" is a [`Fingerprint`]:
//! what decides which entries exist and whether serving one is right — the embedder (vectors
//! of another model are not comparable), the engine's settings (`min_similarity`, bounds,
//! precision, candidates, text limit), the route's cache scope (partitions) and its targets
//! (the context hash and the exact keys the entries point at include them). The mode is not
//! part of it: turning a route from `shadow` to `serve` is exactly when its index should be
//! kept. A changed fingerprint rebuilds the index empty.
//!
//! Must never know the request path or the engine's internals.

use super::semantic::RouteSemantic;
use super::semantic_config::{Embedder, SemanticPolicy};
use crate::RouteMeta;
use std::collections::HashMap;
use std::sync::Arc;

/// What a route's semantic index depends on; equal fingerprints may share one index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fingerprint {
    embedder: Embedder,
    engine: switchyard_semantic::Config,
    scope: super::config::Scope,
    targets: [u8; 32],
}

impl Fingerprint {
    pub(crate) fn of(
        policy: &SemanticPolicy,
        scope: super::config::Scope,
        targets: [u8; 32],
    ) -> Self {
        Fingerprint {
            embedder: policy.embedder.clone(),
            engine: policy.engine,
            scope,
            targets,
        }
    }
}

/// Gives each route of the new configuration (`new`) the index it had in the old one
/// (`old`) when its fingerprint is unchanged; returns the routes whose index was kept.
pub(crate) fn keep_indexes(
    old: &HashMap<String, RouteMeta>,
    new: &mut HashMap<String, RouteMeta>,
) -> Vec<String> {
    let mut kept = Vec::new();
    for (name, meta) in new.iter_mut() {
        let Some(rc) = meta.cache.as_mut() else {
            continue;
        };
        let Some(fresh) = rc.semantic.as_ref() else {
            continue;
        };
        let Some(previous) = old
            .get(name)
            .and_then(|m| m.cache.as_ref())
            .and_then(|c| c.semantic.as_ref())
        else {
            continue;
        };
        if previous.index.fingerprint != fresh.index.fingerprint {
            continue;
        }
        let carried = Arc::new(RouteSemantic::sharing(fresh, previous));
        // The new route's cache was built by this reload and is not shared yet.
        if let Some(rc) = Arc::get_mut(rc) {
            rc.semantic = Some(carried);
            kept.push(name.clone());
        }
    }
    kept
}
