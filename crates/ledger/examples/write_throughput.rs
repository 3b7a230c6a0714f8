//! Ledger write throughput, records per second, to SQLite and to PostgreSQL in the same run:
//! the batched writer's path (`RecordSink::append` in batches of the recorder's default 512),
//! rollups included; then `ledger copy` (`switchyard_ledger::copy`, batches of 1,000, the
//! CLI's default) of those ledgers SQLite → PostgreSQL and PostgreSQL → SQLite, verified.
//!
//! ```sh
//! cargo run --release -p switchyard-ledger --example write_throughput -- \
//!     [--records 200000] [--pg postgres://postgres@127.0.0.1:5432/test]
//! ```
//!
//! SQLite writes a fresh file under the temp directory; PostgreSQL fresh schemas, dropped at
//! the end. Records cycle over 6 workloads × 3 models × 4 teams and one hour per 2,000
//! records, so the rollup sees a realistic mix of new and existing cells.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark script"
)]

use chrono::{TimeZone, Utc};
use std::str::FromStr;
use std::time::Instant;
use switchyard_ledger::{Attempt, AttemptOutcome, Location, Record, RecordKind, RecordSink};
use switchyard_primitives::{Money, TokenUsage};

const BATCH: usize = 512;

fn record(i: u64) -> Record {
    let w = [
        "support",
        "search",
        "classify",
        "extract",
        "summarize",
        "code",
    ][(i % 6) as usize];
    let m = ["gpt-4o-mini", "gpt-4o", "claude-haiku-4-5"][(i % 3) as usize];
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    Record {
        request_id: format!("req_bench_{i:012}"),
        ts: start + chrono::Duration::milliseconds((i * 1800) as i64),
        kind: RecordKind::Chat,
        workload: Some(w.into()),
        tags: vec![("env".into(), "bench".into())],
        key_id: Some(format!("key_{:02}", i % 10)),
        team: Some(format!("team{}", i % 4)),
        route: w.into(),
        provider: Some("openai".into()),
        model: Some(m.into()),
        attempts: vec![Attempt {
            provider: "openai".into(),
            model: m.into(),
            outcome: AttemptOutcome::Ok,
            status: Some(200),
            latency_ms: 300,
            error: None,
        }],
        status: 200,
        error_class: None,
        streamed: i % 2 == 0,
        shadow: false,
        features: "tools".into(),
        usage: TokenUsage {
            input: 800 + i % 400,
            cached_input: 0,
            cache_write: 0,
            cache_write_1h: 0,
            output: 120,
            reasoning: 0,
        },
        cost_usd: Some(Money::from_str("0.000192").unwrap()),
        price_version: Some("openai/gpt-4o-mini@2024-07-18".into()),
        latency_ms: 310.0,
        ttft_ms: Some(120.0),
        overhead_us: 45,
        usage_estimated: false,
        request_count: 1,
        source: "gateway".into(),
        prefix: None,
        cascade: None,
        cache: None,
        saved_usd: None,
        batch: false,
        fingerprint: None,
        routing_baseline_usd: None,
    }
}

fn measure(name: &str, sink: &mut dyn RecordSink, records: &[Record]) {
    let t = Instant::now();
    let mut n = 0;
    for chunk in records.chunks(BATCH) {
        n += sink.append(chunk).expect("append");
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{name:<10} {n:>8} records in {secs:>7.2} s = {:>8.0} records/s (batches of {BATCH})",
        n as f64 / secs
    );
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

struct Quiet;

impl switchyard_ledger::copy::Progress for Quiet {
    fn section(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, _: u64) {}
}

fn measure_copy(name: &str, from: &Location, to: &Location, n: u64) {
    let t = Instant::now();
    let mut copier = switchyard_ledger::copy::Copier::open(from, to).expect("open copy");
    let opts = switchyard_ledger::copy::Options::default();
    let report = copier.run(&opts, &mut Quiet).expect("copy");
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(report.records, n, "every record copied");
    assert!(report.verified(), "the copy verifies");
    println!(
        "{name:<10} {n:>8} records in {secs:>7.2} s = {:>8.0} records/s (ledger copy, verified)",
        n as f64 / secs
    );
}

fn main() {
    let n: u64 = arg("--records").map_or(200_000, |s| s.parse().expect("--records N"));
    let pg = arg("--pg").unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    let records: Vec<Record> = (0..n).map(record).collect();

    let dir = std::env::temp_dir().join(format!("switchyard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = Location::Sqlite(dir.join("ledger.db"));
    let mut sqlite = file.open_sink().expect("sqlite");
    measure("sqlite", sqlite.as_mut(), &records);
    drop(sqlite);

    let mut admin = postgres::Client::connect(&pg, postgres::NoTls).expect("PostgreSQL");
    let schema = |k: &str| format!("sy_bench_{}_{k}", std::process::id());
    let sep = if pg.contains('?') { '&' } else { '?' };
    let url = |k: &str| format!("{pg}{sep}options=-csearch_path%3D{}", schema(k));
    for k in ["w", "c"] {
        admin
            .batch_execute(&format!("CREATE SCHEMA {}", schema(k)))
            .expect("create schema");
    }
    let written = Location::parse(&url("w"));
    let mut sink = written.open_sink().expect("postgres");
    measure("postgres", sink.as_mut(), &records);
    drop(sink);

    measure_copy("sqlite→pg", &file, &Location::parse(&url("c")), n);
    let back = Location::Sqlite(dir.join("back.db"));
    measure_copy("pg→sqlite", &written, &back, n);

    let _ = std::fs::remove_dir_all(&dir);
    for k in ["w", "c"] {
        admin
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", schema(k)))
            .expect("drop schema");
    }
}
