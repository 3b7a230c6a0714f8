//! Contiguous vector storage and the flat scan over it, in f32 or i8-quantised form.
//!
//! Vectors live in one slot-addressed buffer per partition (slot `i` at `i * dims`), so a
//! lookup is a linear pass the compiler vectorises. Slots are reused after removal; this module
//! does not know which slots are live (the index does) and knows nothing of keys or expiry.

use serde::Deserialize;

/// How vectors are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 4 bytes a component; exact cosine.
    #[default]
    F32,
    /// 1 byte a component plus one f32 scale per vector (symmetric max-abs quantisation).
    I8,
}

impl Precision {
    /// Bytes one vector of `dims` takes.
    pub fn bytes_per_vector(self, dims: usize) -> usize {
        match self {
            Precision::F32 => dims * 4,
            Precision::I8 => dims + 4,
        }
    }
}

/// A query prepared for a scan in the storage's precision.
pub(crate) enum Probe<'a> {
    F32(&'a [f32]),
    I8 { q: Vec<i8>, scale: f32 },
}

/// Slot-addressed vectors of one dimension.
#[derive(Debug, Clone)]
pub(crate) enum Vectors {
    F32 {
        dims: usize,
        data: Vec<f32>,
    },
    I8 {
        dims: usize,
        data: Vec<i8>,
        scales: Vec<f32>,
    },
}

impl Vectors {
    pub(crate) fn new(precision: Precision, dims: usize) -> Self {
        match precision {
            Precision::F32 => Vectors::F32 {
                dims,
                data: Vec::new(),
            },
            Precision::I8 => Vectors::I8 {
                dims,
                data: Vec::new(),
                scales: Vec::new(),
            },
        }
    }

    /// Number of slots (live or not).
    #[cfg(test)]
    pub(crate) fn slots(&self) -> usize {
        match self {
            Vectors::F32 { dims, data } => data.len() / (*dims).max(1),
            Vectors::I8 { scales, .. } => scales.len(),
        }
    }

    /// Writes `v` (already `dims` long) into `slot`, appending when `slot == slots()`.
    pub(crate) fn set(&mut self, slot: usize, v: &[f32]) {
        match self {
            Vectors::F32 { dims, data } => {
                let start = slot * *dims;
                if start >= data.len() {
                    data.extend_from_slice(v);
                } else {
                    data[start..start + *dims].copy_from_slice(v);
                }
            }
            Vectors::I8 { dims, data, scales } => {
                let (q, scale) = quantise(v);
                let start = slot * *dims;
                if start >= data.len() {
                    data.extend_from_slice(&q);
                    scales.push(scale);
                } else {
                    data[start..start + *dims].copy_from_slice(&q);
                    scales[slot] = scale;
                }
            }
        }
    }

    /// Prepares `query` for [`Vectors::scan`].
    pub(crate) fn probe<'a>(&self, query: &'a [f32]) -> Probe<'a> {
        match self {
            Vectors::F32 { .. } => Probe::F32(query),
            Vectors::I8 { .. } => {
                let (q, scale) = quantise(query);
                Probe::I8 { q, scale }
            }
        }
    }

    /// Calls `visit(slot, similarity)` for every slot, in order.
    pub(crate) fn scan(&self, probe: &Probe<'_>, mut visit: impl FnMut(usize, f32)) {
        match (self, probe) {
            (Vectors::F32 { dims, data }, Probe::F32(q)) => {
                for (slot, v) in data.chunks_exact(*dims).enumerate() {
                    visit(slot, dot_f32(v, q));
                }
            }
            (Vectors::I8 { dims, data, scales }, Probe::I8 { q, scale }) => {
                for (slot, (v, s)) in data.chunks_exact(*dims).zip(scales).enumerate() {
                    let dot = dot_i8(v, q) as f32;
                    visit(slot, dot * s * scale);
                }
            }
            // A probe is always made by the same storage; a mismatch scores nothing.
            _ => {}
        }
    }
}

/// Dot product in 8 independent lanes so the loop vectorises without fast-math.
pub(crate) fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ac, ar) = (a.chunks_exact(8), a.chunks_exact(8).remainder());
    let (bc, br) = (b.chunks_exact(8), b.chunks_exact(8).remainder());
    for (x, y) in ac.zip(bc) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ar.iter().zip(br).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut acc = [0i32; 16];
    let (ac, ar) = (a.chunks_exact(16), a.chunks_exact(16).remainder());
    let (bc, br) = (b.chunks_exact(16), b.chunks_exact(16).remainder());
    for (x, y) in ac.zip(bc) {
        for i in 0..16 {
            acc[i] += i32::from(x[i]) * i32::from(y[i]);
        }
    }
    let tail: i32 = ar
        .iter()
        .zip(br)
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    acc.iter().sum::<i32>() + tail
}

/// Symmetric quantisation: `x ≈ q * scale` with `q` in -127..=127.
fn quantise(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        return (vec![0; v.len()], 0.0);
    }
    let scale = max / 127.0;
    let q = v
        .iter()
        .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (q, scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::HashEmbedder;

    fn scan_all(v: &Vectors, q: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        v.scan(&v.probe(q), |_, s| out.push(s));
        out
    }

    #[test]
    fn i8_similarities_track_f32_within_a_hundredth() {
        let e = HashEmbedder::new(384);
        let texts = [
            "reset my password",
            "reset the password",
            "pizza in Naples",
            "tax on 5 cars",
        ];
        let mut f = Vectors::new(Precision::F32, 384);
        let mut i = Vectors::new(Precision::I8, 384);
        for (slot, t) in texts.iter().enumerate() {
            f.set(slot, &e.vector(t));
            i.set(slot, &e.vector(t));
        }
        let q = e.vector("how to reset my password");
        for (a, b) in scan_all(&f, &q).iter().zip(scan_all(&i, &q)) {
            assert!((a - b).abs() < 0.01, "{a} vs {b}");
        }
    }

    #[test]
    fn set_overwrites_a_slot_in_place() {
        let mut f = Vectors::new(Precision::F32, 2);
        f.set(0, &[1.0, 0.0]);
        f.set(1, &[0.0, 1.0]);
        f.set(0, &[0.0, 1.0]);
        assert_eq!(f.slots(), 2);
        assert_eq!(scan_all(&f, &[0.0, 1.0]), vec![1.0, 1.0]);
    }
}
