//! The embedding-similarity scorer's spec and its arithmetic; the embeddings themselves are
//! fetched by the runner through a gateway route.

use super::Score;
use serde::{Deserialize, Serialize};

/// `{ type = "embedding", route, threshold, value }`: passes when the cosine similarity of
/// the output's and the reference's embeddings is at least `threshold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingSpec {
    /// The embeddings route; `None` lets the runner use its default.
    #[serde(default)]
    pub route: Option<String>,
    pub threshold: f64,
    /// Reference text; falls back to the item's expected text or reference output.
    #[serde(default)]
    pub value: Option<String>,
}

/// Cosine similarity in `[-1, 1]`, computed in `f64`; `0` when the lengths differ or
/// either vector is all zeros.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    (dot / (na.sqrt() * nb.sqrt())).clamp(-1.0, 1.0)
}

/// Scores a pair of embeddings: the value is the similarity clamped to `[0, 1]`.
pub fn similarity(output: &[f32], reference: &[f32], threshold: f64) -> Score {
    let sim = cosine(output, reference);
    Score {
        value: sim.max(0.0),
        passed: sim >= threshold,
        detail: format!("cosine similarity {sim:.4} against threshold {threshold}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_parallel_orthogonal_and_opposite_vectors() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-12);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 3.0]), 0.0);
        assert!((cosine(&[1.0, 1.0], &[-1.0, -1.0]) + 1.0).abs() < 1e-12);
    }

    #[test]
    fn cosine_of_mismatched_or_zero_vectors_is_zero() {
        assert_eq!(cosine(&[1.0], &[1.0, 2.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 2.0]), 0.0);
        assert_eq!(cosine(&[], &[]), 0.0);
    }

    #[test]
    fn similarity_passes_at_or_above_the_threshold_only() {
        assert!(similarity(&[1.0, 0.0], &[1.0, 0.0], 0.9).passed);
        let s = similarity(&[1.0, 0.0], &[1.0, 1.0], 0.9);
        assert!(!s.passed);
        assert!((s.value - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert_eq!(similarity(&[1.0], &[-1.0], 0.0).value, 0.0);
    }
}
