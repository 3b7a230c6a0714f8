//! Flat scan (the semantic crate's `Index`, f32 and i8) against an HNSW graph
//! (instant-distance, default build parameters) on clustered unit vectors of 384 dimensions:
//! build time, µs per nearest-neighbour query, and the HNSW's recall@1 against the exact scan.
//! Run with `RAYON_NUM_THREADS=1` so the HNSW build's CPU time is one core's and the shared
//! machine is not flooded.
//!
//! Clustered (2,000 centres, noise) rather than uniform vectors, because real sentence
//! embeddings cluster and uniform vectors in 384 dimensions are HNSW's worst case.

use switchyard_semantic::{ContextHash, Facts, Index, Key, Limits, NewEntry, Precision, Scope};

const DIMS: usize = 384;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
}

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
    v
}

fn clustered(n: usize, rng: &mut Rng, centres: &[Vec<f32>]) -> Vec<Vec<f32>> {
    (0..n)
        .map(|i| {
            let c = &centres[i % centres.len()];
            normalised(c.iter().map(|x| x + 0.6 * rng.next() / (DIMS as f32).sqrt() * 4.0).collect())
        })
        .collect()
}

/// The same 8-lane dot product shape as the index's scan, so both sides vectorise alike.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum()
}

#[derive(Clone)]
struct P(Vec<f32>);

impl instant_distance::Point for P {
    fn distance(&self, other: &Self) -> f32 {
        1.0 - dot(&self.0, &other.0)
    }
}

/// CPU ns this thread has run (`/proc/thread-self/schedstat`): the machine is shared.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// CPU seconds of the whole process (all threads: the HNSW build is parallel), from
/// `/proc/self/stat` (utime + stime, 100 ticks a second).
fn process_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the command: state, ppid, pgrp, session, tty, tpgid, flags, 4 fault counts, utime, stime.
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (field(11) + field(12)) as f64 / 100.0
}

fn key(i: usize) -> Key {
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Key(k)
}

fn flat(vectors: &[Vec<f32>], queries: &[Vec<f32>], precision: Precision) -> Vec<usize> {
    let part = (Scope::Global, ContextHash([0; 32]));
    let start = cpu_ns();
    let mut ix = Index::new(DIMS, precision, Limits { max_entries: usize::MAX, max_bytes: usize::MAX });
    let expires = chrono::DateTime::<chrono::Utc>::MAX_UTC;
    for (i, v) in vectors.iter().enumerate() {
        ix.insert(part.clone(), v, NewEntry { key: key(i), facts: Facts::default(), expires });
    }
    let build = (cpu_ns() - start) as f64 / 1e9;
    let now = chrono::Utc::now();
    let start = cpu_ns();
    let found: Vec<usize> = queries
        .iter()
        .map(|q| {
            let n = ix.nearest(&part, q, 1, now);
            n.first().map_or(usize::MAX, |n| {
                let mut b = [0u8; 8];
                b.copy_from_slice(&n.meta.key.0[..8]);
                u64::from_le_bytes(b) as usize
            })
        })
        .collect();
    let per_query = (cpu_ns() - start) as f64 / 1e3 / queries.len() as f64;
    println!("| {} | flat {precision:?} | {:.2} | {per_query:.0} | exact |", vectors.len(), build);
    found
}

fn hnsw(vectors: &[Vec<f32>], queries: &[Vec<f32>], exact: &[usize]) {
    let start = process_cpu_s();
    let points: Vec<P> = vectors.iter().cloned().map(P).collect();
    let values: Vec<usize> = (0..vectors.len()).collect();
    let map = instant_distance::Builder::default().seed(7).build(points, values);
    let build = process_cpu_s() - start;
    let mut search = instant_distance::Search::default();
    let start = cpu_ns();
    let found: Vec<usize> = queries
        .iter()
        .map(|q| map.search(&P(q.clone()), &mut search).next().map_or(usize::MAX, |item| *item.value))
        .collect();
    let per_query = (cpu_ns() - start) as f64 / 1e3 / queries.len() as f64;
    let agree = found.iter().zip(exact).filter(|(a, b)| a == b).count();
    println!(
        "| {} | HNSW (instant-distance, ef_search 100) | {:.2} | {per_query:.0} | {:.1}% |",
        vectors.len(),
        build,
        agree as f64 * 100.0 / queries.len() as f64
    );
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![10_000, 100_000] } else { sizes };
    println!("| entries | index | build, CPU s | CPU µs per query | recall@1 vs exact |\n|---|---|---|---|---|");
    for n in sizes {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let centres: Vec<Vec<f32>> = (0..2000).map(|_| normalised((0..DIMS).map(|_| rng.next()).collect())).collect();
        let vectors = clustered(n, &mut rng, &centres);
        let queries = clustered(500, &mut rng, &centres);
        let exact = flat(&vectors, &queries, Precision::F32);
        flat(&vectors, &queries, Precision::I8);
        hnsw(&vectors, &queries, &exact);
    }
}
