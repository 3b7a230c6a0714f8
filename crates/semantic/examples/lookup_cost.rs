//! Measures the cost of a semantic lookup (index scan + guards) at 10k and 100k entries in one
//! partition, for f32 and i8 storage, and the memory an entry takes.
//!
//! ```sh
//! cargo run --release -p switchyard-semantic --example lookup_cost
//! cargo run --release -p switchyard-semantic --example lookup_cost -- 1000 10000 100000
//! DIMS=1536 cargo run --release -p switchyard-semantic --example lookup_cost
//! ```
//!
//! Vectors are pseudo-random unit vectors of 384 dimensions (all-MiniLM-L6-v2's size), or of
//! `DIMS` (1536: an embeddings route such as text-embedding-3-small): a flat scan's cost does
//! not depend on their values. Each entry carries the facts of a realistic
//! text. The cost is CPU time per lookup (the thread's schedstat; wall time is printed too but
//! means little on a loaded machine). Memory is the index's own accounting and the process's
//! resident-set growth.

use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_semantic::{
    Config, ContextHash, Embed, EmbedFuture, Key, Limits, Precision, Request, Scope, SemanticCache,
    Stored,
};

/// The vectors' dimension: `DIMS` from the environment, else all-MiniLM-L6-v2's 384.
fn dims() -> usize {
    std::env::var("DIMS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(384)
}

/// An embedder that is never called (the example embeds itself); only its dimension is used.
struct Dims;

impl Embed for Dims {
    fn dimensions(&self) -> usize {
        dims()
    }
    fn embed<'a>(&'a self, _: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }

    fn unit(&mut self) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dims()).map(|_| self.next()).collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= n);
        v
    }
}

/// CPU time this thread has run, in ns (`/proc/thread-self/schedstat`): wall-clock timings mean
/// little on a shared, loaded machine.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<usize>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn key(i: usize) -> Key {
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Key(k)
}

fn measure(entries: usize, precision: Precision) {
    let config = Config {
        limits: Limits {
            max_entries: entries,
            max_bytes: usize::MAX,
        },
        precision,
        ..Config::default()
    };
    let scope = Scope::Team("team-1".into());
    let context = ContextHash([3; 32]);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let before = rss_bytes();
    let cache = SemanticCache::new(config, Arc::new(Dims));
    let stored = |i| Stored {
        key: key(i),
        ttl: Duration::from_secs(3600),
    };
    for i in 0..entries {
        let text = format!("How do I reset the password of account {i} on the Acme portal?");
        let req = Request {
            text: &text,
            context,
            scope: &scope,
        };
        cache.insert_embedded(&req, &rng.unit(), stored(i));
    }
    let grown = rss_bytes().saturating_sub(before);
    let queries: Vec<Vec<f32>> = (0..200).map(|_| rng.unit()).collect();
    let req = Request {
        text: "How can I reset my Acme password for account 17?",
        context,
        scope: &scope,
    };
    let mut times = Vec::with_capacity(queries.len());
    let mut sink = 0.0f32;
    let cpu_start = cpu_ns();
    for q in &queries {
        let start = Instant::now();
        let got = cache.lookup_embedded(&req, q);
        times.push(start.elapsed().as_secs_f64() * 1e6);
        sink += got.nearest().map_or(0.0, |c| c.similarity);
    }
    let cpu_us = (cpu_ns() - cpu_start) as f64 / 1e3 / queries.len() as f64;
    times.sort_by(f64::total_cmp);
    let state = cache.state();
    println!(
        "| {entries} | {precision:?} | {cpu_us:.0} | {:.0} | {} | {} |",
        times[times.len() / 2],
        state.bytes / entries.max(1),
        grown / entries.max(1),
    );
    std::hint::black_box(sink);
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    println!("{} dimensions", dims());
    println!(
        "| entries in the partition | precision | CPU µs per lookup | wall p50 µs | accounted bytes/entry | RSS growth bytes/entry |"
    );
    println!("|---|---|---|---|---|---|");
    for entries in sizes {
        for precision in [Precision::F32, Precision::I8] {
            measure(entries, precision);
        }
    }
}
