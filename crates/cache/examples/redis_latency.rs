//! Round-trip time of the Redis store's operations against a running Redis (default
//! `redis://127.0.0.1:6379`, or the first argument): 2,000 puts then 2,000 gets of a 2 KiB
//! value, one at a time, under a private prefix that is purged after. Prints p50 and p99.
//!
//! `cargo run -p switchyard-cache --example redis_latency [-- redis://host:port]`

#![expect(clippy::expect_used, reason = "a measuring tool: fail loudly")]

use bytes::Bytes;
use std::time::{Duration, Instant};
use switchyard_cache::{Key, RedisOptions, RedisStore, Store};

const N: u32 = 2_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{what}: p50 {:.0} µs, p99 {:.0} µs over {} operations",
        us(percentile(&times, 0.5)),
        us(percentile(&times, 0.99)),
        times.len()
    );
}

fn key(n: u32) -> Key {
    let mut k = [0u8; 32];
    k[..4].copy_from_slice(&n.to_be_bytes());
    Key(k)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let options = RedisOptions {
        prefix: format!("switchyard:bench:{}:", std::process::id()),
        op_timeout: Duration::from_secs(1),
        ..RedisOptions::default()
    };
    let store = RedisStore::open(&url, &options).expect("a redis:// URL");
    let value = Bytes::from(vec![b'x'; 2048]);
    let ttl = Duration::from_secs(60);
    let mut puts = Vec::new();
    for n in 0..N {
        let started = Instant::now();
        store.put(&key(n), value.clone(), ttl).await.expect("put");
        puts.push(started.elapsed());
    }
    let mut gets = Vec::new();
    for n in 0..N {
        let started = Instant::now();
        let got = store.get(&key(n)).await.expect("get");
        gets.push(started.elapsed());
        assert_eq!(got.map(|v| v.len()), Some(2048));
    }
    report("put (SET PX, 2 KiB)", puts);
    report("get (GET, 2 KiB hit)", gets);
    let purged = store.purge().await.expect("purge");
    println!("purged {purged} keys");
}
