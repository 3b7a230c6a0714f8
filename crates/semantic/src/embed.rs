//! Embedders: the [`Embed`] trait the cache calls, a deterministic [`HashEmbedder`] for tests,
//! and (feature `minilm`) the built-in all-MiniLM-L6-v2 adapter.
//!
//! An embedder turns texts into unit-length vectors of a fixed dimension. The gateway implements
//! [`Embed`] over any embeddings route (an HTTP call); this module must never know routes,
//! providers or HTTP.

use std::future::Future;
use std::pin::Pin;

/// Why an embedder could not embed. The cache treats it as a miss (the request goes on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    /// The embedder failed (model error, upstream error); the message is secret-free.
    #[error("embedding failed: {0}")]
    Failed(String),
    /// The embedder returned vectors of the wrong count or dimension.
    #[error(
        "the embedder returned {got} for {expected}: check that the embeddings route serves the model the cache was built for"
    )]
    Shape { expected: String, got: String },
}

/// The future an [`Embed`] call returns.
pub type EmbedFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Vec<f32>>, EmbedError>> + Send + 'a>>;

/// Something that embeds texts: one L2-normalised vector of [`Embed::dimensions`] per text, in
/// order. Shared by every request (`Arc<dyn Embed>`).
pub trait Embed: Send + Sync + 'static {
    /// Length of every vector it returns.
    fn dimensions(&self) -> usize;
    /// Embeds `texts`; the result has one vector per text.
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a>;
}

/// Checks an embedder's answer (count and dimension) and normalises each vector to unit length,
/// so a route that returns unnormalised vectors still gives cosine similarity as a dot product.
pub fn checked(
    vectors: Vec<Vec<f32>>,
    count: usize,
    dimensions: usize,
) -> Result<Vec<Vec<f32>>, EmbedError> {
    if vectors.len() != count {
        return Err(EmbedError::Shape {
            expected: format!("{count} texts"),
            got: format!("{} vectors", vectors.len()),
        });
    }
    vectors
        .into_iter()
        .map(|mut v| {
            if v.len() != dimensions {
                return Err(EmbedError::Shape {
                    expected: format!("{dimensions} dimensions"),
                    got: format!("a vector of {}", v.len()),
                });
            }
            normalise(&mut v);
            Ok(v)
        })
        .collect()
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// A deterministic embedder for tests and examples that need no model: words and character
/// trigrams hashed into `dimensions` buckets (signed), then normalised. Texts sharing words are
/// similar; it knows nothing of meaning, so its quality figures mean nothing.
#[derive(Debug, Clone)]
pub struct HashEmbedder {
    dimensions: usize,
}

impl HashEmbedder {
    /// An embedder of `dimensions` (at least 1).
    pub fn new(dimensions: usize) -> Self {
        Self {
            dimensions: dimensions.max(1),
        }
    }

    /// The vector of one text.
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0.0f32; self.dimensions];
        let lower = text.to_lowercase();
        for word in lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            self.add(&mut v, word.as_bytes(), 1.0);
            let chars: Vec<char> = format!(" {word} ").chars().collect();
            for tri in chars.windows(3) {
                let s: String = tri.iter().collect();
                self.add(&mut v, s.as_bytes(), 0.5);
            }
        }
        normalise(&mut v);
        v
    }

    fn add(&self, v: &mut [f32], bytes: &[u8], weight: f32) {
        let h = fnv1a(bytes);
        let len = v.len() as u64;
        let slot = usize::try_from(h % len).unwrap_or(0);
        let sign = if (h >> 63) == 0 { 1.0 } else { -1.0 };
        if let Some(x) = v.get_mut(slot) {
            *x += sign * weight;
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Embed for HashEmbedder {
    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move { Ok(texts.iter().map(|t| self.vector(t)).collect()) })
    }
}

#[cfg(feature = "minilm")]
pub use minilm::MiniLmEmbedder;

#[cfg(feature = "minilm")]
mod minilm {
    use super::{Embed, EmbedError, EmbedFuture};
    use switchyard_localembed::{DIMENSIONS, LoadError, MiniLm};

    /// The built-in `local:minilm` embedder (all-MiniLM-L6-v2 on the CPU).
    ///
    /// The forward pass is CPU-bound (milliseconds per text): the future computes it when
    /// polled, so an async caller should run the call on a blocking thread.
    #[derive(Debug)]
    pub struct MiniLmEmbedder {
        model: MiniLm,
    }

    impl MiniLmEmbedder {
        /// Loads the model from `dir` (see `switchyard_localembed::find_model_dir`).
        pub fn load(dir: &std::path::Path) -> Result<Self, LoadError> {
            Ok(Self {
                model: MiniLm::load(dir)?,
            })
        }

        /// Embeds synchronously.
        pub fn embed_now(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.model
                .embed(texts)
                .map_err(|e| EmbedError::Failed(e.to_string()))
        }
    }

    impl Embed for MiniLmEmbedder {
        fn dimensions(&self) -> usize {
            DIMENSIONS
        }

        fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
            Box::pin(async move {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                self.embed_now(&refs)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_embedder_is_deterministic_unit_length_and_word_sensitive() {
        let e = HashEmbedder::new(64);
        let a = e.vector("How do I reset my password?");
        assert_eq!(a, e.vector("How do I reset my password?"));
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        let near = e.vector("how do i reset my password");
        let far = e.vector("Best pizza in Naples");
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>();
        assert!(dot(&a, &near) > dot(&a, &far));
    }

    #[test]
    fn checked_refuses_wrong_count_and_dimension_and_normalises() {
        assert!(matches!(
            checked(vec![vec![1.0, 0.0]], 2, 2),
            Err(EmbedError::Shape { .. })
        ));
        assert!(matches!(
            checked(vec![vec![1.0]], 1, 2),
            Err(EmbedError::Shape { .. })
        ));
        let ok = checked(vec![vec![3.0, 4.0]], 1, 2).unwrap();
        assert!((ok[0][0] - 0.6).abs() < 1e-6 && (ok[0][1] - 0.8).abs() < 1e-6);
    }
}
