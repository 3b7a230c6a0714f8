//! A small, fast pseudo-random source for weights and jitter (not for secrets).
//!
//! SplitMix64 over one shared atomic counter seeded from the clock: lock-free, and good
//! enough for spreading load and backoff; nothing here needs to be unpredictable.

use std::sync::atomic::{AtomicU64, Ordering};

static STATE: AtomicU64 = AtomicU64::new(0);

fn next() -> u64 {
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
    if STATE.load(Ordering::Relaxed) == 0 {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x5EED, |d| d.as_nanos() as u64)
            | 1;
        // Only the first caller's seed wins; the others continue from it.
        let _ = STATE.compare_exchange(0, seed, Ordering::Relaxed, Ordering::Relaxed);
    }
    let z = STATE
        .fetch_add(GAMMA, Ordering::Relaxed)
        .wrapping_add(GAMMA);
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in `0..n` (`n > 0`; 0 gives 0).
pub fn below(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    // Multiply-shift: bias is below 2^-32 for any n used here.
    ((u128::from(next()) * u128::from(n)) >> 64) as u64
}

/// Uniform in `[0, 1)`.
pub fn unit() -> f64 {
    (next() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_spreads() {
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            let v = below(4) as usize;
            counts[v] += 1;
        }
        // Each bucket expects 10,000; 5 standard deviations is about ±433.
        for c in counts {
            assert!((9_500..=10_500).contains(&c), "{counts:?}");
        }
        assert_eq!(below(0), 0);
        let u = unit();
        assert!((0.0..1.0).contains(&u));
    }
}
