//! The semantic cache engine (layer 1): answers "has a request that means the same thing been
//! answered already?" for the gateway, which then serves the exact cache's stored answer.
//!
//! * [`Embed`] — texts → unit vectors; the built-in all-MiniLM-L6-v2 ([`MiniLmEmbedder`],
//!   feature `minilm`), a deterministic [`HashEmbedder`] for tests, and any embeddings route
//!   the gateway adapts.
//! * [`Index`] — in-process flat scan over contiguous f32 (or i8) vectors, partitioned by
//!   ([`Scope`], [`ContextHash`]), bounded in entries and bytes, with expiry.
//! * [`Facts`] and [`guard`] — the signature (negation, polarity, numbers and units, dates,
//!   entities, quoted strings, language) that must agree between query and candidate.
//! * [`SemanticCache`] — lookup / insert / forget, returning a [`Lookup`] that says what to
//!   serve and, for shadow mode, every candidate checked with its similarity and failed guards.
//! * [`eval`] — the labelled-pair evaluation (precision, recall, false-hit rate with Wilson
//!   intervals over a threshold sweep).
//!
//! Must never know HTTP, requests, dialects, providers or the gateway: the caller passes the
//! text to embed, a hash of the rest of the request, and the scope.

mod cache;
pub mod config;
mod embed;
pub mod eval;
mod facts;
pub mod guard;
mod index;
mod language;
mod lexicon;
mod tokens;
mod vectors;

pub use cache::{Candidate, Lookup, Miss, Request, SemanticCache, Stored, normalise};
pub use config::{Config, ConfigError, RawConfig};
#[cfg(feature = "minilm")]
pub use embed::MiniLmEmbedder;
pub use embed::{Embed, EmbedError, EmbedFuture, HashEmbedder, checked};
pub use facts::{Facts, Number};
pub use guard::{Guard, GuardSet};
pub use index::{ContextHash, Index, IndexState, Limits, Meta, Neighbour, NewEntry, Scope};
pub use switchyard_cache::Key;
pub use vectors::Precision;
