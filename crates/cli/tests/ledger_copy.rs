//! `switchyard ledger copy` end to end with the real binary: a ledger written by the real
//! recorder (records of every kind, virtual keys, batch state) copied SQLite → PostgreSQL →
//! SQLite and read back equal by the ledger's own queries; a copy stopped or killed half-way
//! continues and writes nothing twice; a mismatch and bad input are reported with their exit
//! codes.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

#[expect(dead_code, reason = "the import helpers are for the other CLI tests")]
mod common;

use chrono::{Duration, TimeZone, Utc};
use common::{run, scratch};
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use switchyard_ledger::batch::{FileRow, JobRow, LineState, NewLine};
use switchyard_ledger::{
    Attempt, AttemptOutcome, CascadeMark, Dimension, Fingerprint, Location, PromptPrefix, Record,
    RecordKind, Recorder, RecorderConfig, ScratchSchema, SqliteStore, SummaryQuery, keys,
};
use switchyard_primitives::{Money, TokenUsage};

const RECORDS: u64 = 3_000;

fn pg() -> Option<ScratchSchema> {
    common::pg_schema("sy_copy")
}

/// Record `i` of the source: chat and embeddings, errors, shadow traffic, cache hits (exact
/// and semantic), cascade marks, batch lines, prompt prefixes, every token kind, five keys
/// over two teams, over about 31 hours.
fn record(i: u64) -> Record {
    let base = Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap();
    let hit = match (i % 19, i % 29) {
        (0, _) => Some("exact"),
        (_, 0) => Some("semantic"),
        _ => None,
    };
    let cost = Money(Decimal::new((i * 37 % 10_000 + 1) as i64, 6));
    let models = [
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-haiku-4-5"),
        ("openai", "gpt-4o"),
    ];
    let (provider, model) = models[(i % 3) as usize];
    let failed = i % 13 == 0;
    Record {
        request_id: format!("req-{i:06}"),
        ts: base + Duration::seconds((i * 37) as i64),
        kind: if i % 7 == 0 {
            RecordKind::Embedding
        } else {
            RecordKind::Chat
        },
        workload: Some(["support", "classify", "extract", "summarize"][(i % 4) as usize].into()),
        tags: vec![("env".into(), ["prod", "staging"][(i % 2) as usize].into())],
        key_id: Some(format!("key-{}", i % 5)),
        team: Some(["payments", "search"][(i % 2) as usize].into()),
        route: ["chat", "classify", "embed"][(i % 3) as usize].into(),
        provider: Some(provider.into()),
        model: Some(model.into()),
        attempts: vec![Attempt {
            provider: provider.into(),
            model: model.into(),
            outcome: if failed {
                AttemptOutcome::ServerError
            } else {
                AttemptOutcome::Ok
            },
            status: Some(if failed { 502 } else { 200 }),
            latency_ms: 100 + i % 400,
            error: failed.then(|| "upstream 502".into()),
        }],
        status: if failed { 502 } else { 200 },
        error_class: failed.then(|| "upstream_error".into()),
        streamed: i % 4 == 1,
        shadow: i % 17 == 0,
        features: if i % 6 == 0 {
            "tools".into()
        } else {
            String::new()
        },
        usage: TokenUsage {
            input: 100 + i % 50,
            cached_input: if i % 3 == 0 { 1_024 } else { 0 },
            cache_write: if i % 11 == 0 { 2_048 } else { 0 },
            cache_write_1h: if i % 23 == 0 { 512 } else { 0 },
            output: 20 + i % 30,
            reasoning: if i % 4 == 0 { 8 } else { 0 },
        },
        cost_usd: Some(if hit.is_some() { Money::ZERO } else { cost }),
        price_version: Some("2026-11-01".into()),
        latency_ms: 120.5 + (i % 400) as f64 * 0.25,
        ttft_ms: (i % 4 == 1).then_some(40.0 + (i % 10) as f64),
        overhead_us: 30 + i % 20,
        usage_estimated: i % 41 == 0,
        request_count: 1,
        source: switchyard_ledger::GATEWAY_SOURCE.into(),
        prefix: (i % 5 == 0).then_some(PromptPrefix {
            hash: i % 3,
            tokens: 1_200,
        }),
        cascade: (i % 9 == 0).then(|| CascadeMark {
            tier: 1 + (i % 2) as u32,
            baseline_usd: Some(Money(Decimal::new(9_000 + i as i64, 6))),
            judged_usd: None,
        }),
        cache: hit.map(str::to_owned),
        saved_usd: hit.map(|_| cost).or_else(|| (i % 31 == 0).then_some(cost)),
        batch: i % 31 == 0,
        fingerprint: Some(Fingerprint(u128::from(i % 700))),
        routing_baseline_usd: (i % 7 == 0).then(|| Money(cost.0 * Decimal::new(3, 0))),
    }
}

/// The source: records through the real recorder, three virtual keys, a batch with its file.
fn source(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("source.db");
    let sink = Box::new(SqliteStore::open(&path).unwrap());
    let (recorder, handle) = Recorder::spawn(sink, RecorderConfig::default()).unwrap();
    for i in 0..RECORDS {
        recorder.record(record(i));
    }
    assert_eq!(handle.shutdown().written, RECORDS);
    let keys = Location::parse(path.to_str().unwrap()).open_keys().unwrap();
    for n in 0..3 {
        keys.insert(&keys::Row {
            id: format!("key-{n}"),
            hash: format!("{n:064x}"),
            prefix: format!("sk-sy-{n}"),
            spec: format!("{{\"team\":\"t{n}\"}}"),
            created_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            rotated_at: None,
            revoked_at: (n == 2).then(|| Utc.with_ymd_and_hms(2026, 11, 3, 0, 0, 0).unwrap()),
        })
        .unwrap();
    }
    let mut batch = switchyard_ledger::batch::open(&path).unwrap();
    let file = FileRow {
        id: "file-1".into(),
        owner: Some("key-0".into()),
        purpose: "batch".into(),
        filename: "nightly.jsonl".into(),
        bytes: 5,
        created_at: 1_700_000_000,
    };
    batch.put_file(&file, b"{}\n{}").unwrap();
    let job = JobRow {
        id: "batch-1".into(),
        owner: Some("key-0".into()),
        endpoint: "/v1/chat/completions".into(),
        input_file_id: "file-1".into(),
        completion_window: "24h".into(),
        status: "in_progress".into(),
        created_at: 1_700_000_000,
        expires_at: 1_700_086_400,
        ..JobRow::default()
    };
    let line = |line: u64| NewLine {
        line,
        custom_id: Some(format!("c{line}")),
        state: LineState::Pending,
        body: Some("{}".into()),
        result: None,
    };
    batch.create_job(&job, &[line(1), line(2)]).unwrap();
    path
}

/// Floats to 9 significant digits: rollup latency sums are added in batches, and a copy's
/// batches differ from the recorder's, so the last bit of a float sum may.
fn approx(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap();
            serde_json::json!(format!("{f:.9e}"))
        }
        Value::Array(a) => Value::Array(a.into_iter().map(approx).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, approx(v))).collect()),
        v => v,
    }
}

/// Everything the ledger's own read queries say about a ledger.
fn reads(at: &str) -> Value {
    let location = Location::parse(at);
    let store = location.open_existing().unwrap();
    let mut out = serde_json::Map::new();
    let dims = [
        Dimension::Workload,
        Dimension::Route,
        Dimension::Provider,
        Dimension::Model,
        Dimension::Day,
        Dimension::Key,
        Dimension::Team,
    ];
    for by in dims {
        for include_shadow in [false, true] {
            let q = SummaryQuery {
                by,
                since: None,
                include_shadow,
            };
            let rows = serde_json::to_value(store.summary(&q).unwrap()).unwrap();
            out.insert(format!("summary {by:?} {include_shadow}"), approx(rows));
            if by == Dimension::Day {
                let s = serde_json::to_value(store.savings(&q).unwrap()).unwrap();
                out.insert(format!("savings {include_shadow}"), approx(s));
            }
        }
    }
    let cascade = serde_json::to_value(store.cascade(None).unwrap()).unwrap();
    out.insert("cascade".into(), approx(cascade));
    let mut records = Vec::new();
    store
        .scan(None, &mut |r| {
            records.push(r);
            Ok(())
        })
        .unwrap();
    records.sort_by(|a, b| a.request_id.cmp(&b.request_id));
    out.insert("records".into(), serde_json::to_value(&records).unwrap());
    let mut keys: Vec<_> = location.open_keys().unwrap().all().unwrap();
    keys.sort_by(|a, b| a.id.cmp(&b.id));
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| {
            serde_json::json!([
                k.id,
                k.hash,
                k.prefix,
                k.spec,
                k.created_at,
                k.rotated_at,
                k.revoked_at
            ])
        })
        .collect();
    out.insert("keys".into(), Value::Array(keys));
    Value::Object(out)
}

fn count(at: &str) -> u64 {
    Location::parse(at)
        .open_existing()
        .unwrap()
        .count()
        .unwrap()
}

fn copy(dir: &Path, from: &str, to: &str, extra: &[&str]) -> common::Run {
    let mut args = vec!["ledger", "copy", "--from", from, "--to", to];
    args.extend_from_slice(extra);
    run(dir, &args)
}

#[test]
fn a_sqlite_ledger_copied_to_postgres_and_back_reads_the_same_by_every_ledger_query() {
    let Some(schema) = pg() else { return };
    let dir = scratch();
    let src = source(&dir);
    let src = src.to_str().unwrap();
    let before = reads(src);
    assert_eq!(
        before["records"].as_array().unwrap().len(),
        RECORDS as usize
    );

    let to_pg = copy(&dir, src, schema.url(), &[]);
    assert_eq!(to_pg.code, 0, "{}\n{}", to_pg.stdout, to_pg.stderr);
    assert!(to_pg.stdout.contains("verified"), "{}", to_pg.stdout);
    assert!(
        to_pg.stdout.contains("rollup_hourly.cost_usd"),
        "{}",
        to_pg.stdout
    );
    let on_pg = reads(schema.url());
    assert_eq!(on_pg, before, "PostgreSQL reads as the source does");

    let back = dir.join("back.db");
    let back = back.to_str().unwrap();
    let to_sqlite = copy(&dir, schema.url(), back, &[]);
    assert_eq!(
        to_sqlite.code, 0,
        "{}\n{}",
        to_sqlite.stdout, to_sqlite.stderr
    );
    assert_eq!(
        reads(back),
        before,
        "and so does the SQLite copy of the copy"
    );
    let batch = switchyard_ledger::batch::open(Path::new(back)).unwrap();
    assert_eq!(batch.file_content("file-1").unwrap().unwrap(), b"{}\n{}");
    let job = batch.job("batch-1").unwrap().unwrap();
    assert_eq!(
        (job.status.as_str(), job.expires_at),
        ("in_progress", 1_700_086_400)
    );
    assert_eq!(batch.pending_lines("batch-1").unwrap().len(), 2);
}

#[test]
fn a_copy_stopped_or_killed_half_way_continues_where_it_stopped_and_writes_nothing_twice() {
    let dir = scratch();
    let src = source(&dir);
    let src = src.to_str().unwrap();
    let before = reads(src);

    // Stopped by --max-records: exactly that many, then the rest on the next run.
    let target = dir.join("target.db");
    let target = target.to_str().unwrap();
    let first = copy(
        &dir,
        src,
        target,
        &["--max-records", "1000", "--batch", "300"],
    );
    assert_eq!(first.code, 3, "{}\n{}", first.stdout, first.stderr);
    assert_eq!(count(target), 1_000);
    let second = copy(&dir, src, target, &["--batch", "300"]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert!(
        second.stdout.contains("2000 records copied"),
        "{}",
        second.stdout
    );
    assert!(
        second
            .stdout
            .contains("resumed after source record id 1000"),
        "{}",
        second.stdout
    );
    assert_eq!(reads(target), before);

    // Killed: one record per transaction, so the copy is surely under way when it dies.
    let Some(schema) = pg() else { return };
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "ledger",
            "copy",
            "--from",
            src,
            "--to",
            schema.url(),
            "--batch",
            "1",
        ])
        .current_dir(&dir)
        .env("SWITCHYARD_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let store = PgReader::new(schema.url());
    let started = std::time::Instant::now();
    while store.count() < 100 {
        assert!(started.elapsed().as_secs() < 60, "the copy never got going");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = store.count();
    assert!(killed_at < RECORDS, "killed half-way: {killed_at}");
    let resumed = copy(&dir, src, schema.url(), &[]);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed.stdout.contains("resumed after"),
        "{}",
        resumed.stdout
    );
    assert_eq!(reads(schema.url()), before, "nothing lost, nothing twice");
}

/// Counts a PostgreSQL ledger's records from another connection while a copy writes to it.
struct PgReader(String);

impl PgReader {
    fn new(url: &str) -> Self {
        PgReader(url.to_owned())
    }

    fn count(&self) -> u64 {
        Location::parse(&self.0)
            .open_existing()
            .unwrap()
            .count()
            .unwrap()
    }
}

#[test]
fn records_sent_again_are_skipped_with_their_rollups_and_a_target_that_differs_fails_verification()
{
    let dir = scratch();
    let src = source(&dir);
    let src_str = src.to_str().unwrap();
    let target = dir.join("target.db");
    let target = target.to_str().unwrap();
    assert_eq!(copy(&dir, src_str, target, &[]).code, 0);
    let copied = reads(target);

    // The same records under another name: every one is already there.
    let twin = dir.join("twin.db");
    std::fs::copy(&src, &twin).unwrap();
    let again = copy(&dir, twin.to_str().unwrap(), target, &["--append"]);
    assert!(
        again.stdout.contains(" 0 records copied"),
        "{}",
        again.stdout
    );
    assert_eq!(
        reads(target),
        copied,
        "no record, rollup or key counted twice"
    );
    assert_eq!(
        again.code, 1,
        "before + source is not what the target holds"
    );
    assert!(again.stdout.contains("MISMATCH"), "{}", again.stdout);

    // A record the source does not have: the next verification says which figures differ.
    let mut extra = record(RECORDS + 1);
    extra.request_id = "not-in-the-source".into();
    Location::parse(target)
        .open_sink()
        .unwrap()
        .append(&[extra])
        .unwrap();
    let r = copy(&dir, src_str, target, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let flagged: Vec<&str> = r.stdout.lines().filter(|l| l.ends_with('!')).collect();
    assert!(
        flagged.iter().any(|l| l.starts_with("requests.rows ")),
        "{}",
        r.stdout
    );
    assert!(
        flagged
            .iter()
            .any(|l| l.starts_with("rollup_hourly.requests ")),
        "{}",
        r.stdout
    );
}

#[test]
fn bad_input_exits_2_with_a_clear_error() {
    let dir = scratch();
    let missing = copy(&dir, "nothing-here.db", "out.db", &[]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("no ledger file at nothing-here.db"),
        "{}",
        missing.stderr
    );
    assert!(
        !dir.join("out.db").exists(),
        "nothing created for a bad source"
    );

    let src = source(&dir);
    let src = src.to_str().unwrap();
    let same = copy(&dir, src, &format!("sqlite://{src}"), &[]);
    assert_eq!(same.code, 2, "{}", same.stderr);
    assert!(same.stderr.contains("same ledger"), "{}", same.stderr);

    let down = copy(
        &dir,
        src,
        "postgres://switchyard:hunter2@127.0.0.1:1/test",
        &[],
    );
    assert_eq!(down.code, 2, "{}", down.stderr);
    assert!(
        down.stderr.contains("--to") && down.stderr.contains("cannot connect"),
        "{}",
        down.stderr
    );
    assert!(
        !down.stderr.contains("hunter2"),
        "no password in errors: {}",
        down.stderr
    );

    let full = dir.join("full.db");
    let full = full.to_str().unwrap();
    let mut one = record(1);
    one.request_id = "already-here".into();
    Location::parse(full)
        .open_sink()
        .unwrap()
        .append(&[one])
        .unwrap();
    let refused = copy(&dir, src, full, &[]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("already holds data (1 records"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--append"), "{}", refused.stderr);
    assert_eq!(count(full), 1, "nothing written to a refused target");
}

/// The eval store beside the source ledger (`<stem>-eval.db`, where `serve` puts it) with
/// `captures` captures (ids `{ids}-0000`…) and one dataset `golden-{ids}` of three items.
fn eval_source(ledger: &Path, captures: u64, ids: &str) -> std::path::PathBuf {
    let stem = ledger.file_stem().unwrap().to_string_lossy().into_owned();
    let path = ledger.with_file_name(format!("{stem}-eval.db"));
    let mut store = switchyard_evalstore::open(&path).unwrap();
    let base = Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap();
    for i in 0..captures {
        store
            .insert_capture(&switchyard_evalstore::Capture {
                id: format!("{ids}-{i:04}"),
                ts: base + Duration::seconds(i as i64),
                workload: Some("support".into()),
                route: "chat".into(),
                provider: Some("openai".into()),
                model: Some("gpt-4o-mini".into()),
                key_id: Some("key-0".into()),
                team: None,
                tags: vec![("env".into(), "prod".into())],
                dialect: "openai".into(),
                request: serde_json::json!({"model": "chat", "messages": [{"role": "user", "content": format!("q {i}")}]}),
                output_text: format!("answer {i}"),
                tool_calls: serde_json::json!([]),
                cost_usd: "0.0001".parse().ok(),
                latency_ms: 10.5,
                input_tokens: 12,
                output_tokens: 4,
            })
            .unwrap();
    }
    let items: Vec<Value> = (0..3)
        .map(|i| serde_json::json!({"input": {"messages": [{"role": "user", "content": format!("item {i}")}]}}))
        .collect();
    store
        .create_dataset(
            &format!("golden-{ids}"),
            ("import golden.jsonl", None),
            &serde_json::json!([]),
            &items,
        )
        .unwrap();
    path
}

#[test]
fn the_eval_store_beside_the_ledger_is_copied_with_it_and_counted() {
    use switchyard_evalstore::copy::Table;
    let Some(schema) = pg() else { return };
    let dir = scratch();
    let src = source(&dir);
    let eval = eval_source(&src, 1_200, "cap");
    let src = src.to_str().unwrap();

    let first = copy(&dir, src, schema.url(), &[]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stdout.contains("eval.captures.rows"),
        "{}",
        first.stdout
    );
    let on_pg = switchyard_evalstore::open(Path::new(schema.url())).unwrap();
    let from = switchyard_evalstore::open(&eval).unwrap();
    for t in Table::ALL {
        assert_eq!(
            on_pg.count(t).unwrap(),
            from.count(t).unwrap(),
            "{}",
            t.name()
        );
    }
    assert_eq!(on_pg.count(Table::Captures).unwrap(), 1_200);
    assert_eq!(on_pg.count(Table::DatasetItems).unwrap(), 3);
    let (info, items) = on_pg.dataset("golden-cap").unwrap();
    assert_eq!((info.item_count, items.len()), (3, 3));

    // Run again: every row is there already; nothing is written twice and it still verifies.
    let again = copy(&dir, src, schema.url(), &[]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(on_pg.count(Table::Captures).unwrap(), 1_200);

    // A target eval store holding rows of another store is a mismatch, not a silent merge.
    let other = dir.join("other.db");
    let other_eval = eval_source(&other, 5, "other");
    let mixed = copy(
        &dir,
        src,
        dir.join("mixed.db").to_str().unwrap(),
        &["--eval-to", other_eval.to_str().unwrap()],
    );
    assert_eq!(mixed.code, 1, "{}\n{}", mixed.stdout, mixed.stderr);
    assert!(mixed.stdout.contains("MISMATCH"), "{}", mixed.stdout);

    // --no-eval leaves it out.
    let bare = copy(
        &dir,
        src,
        dir.join("bare.db").to_str().unwrap(),
        &["--no-eval"],
    );
    assert_eq!(bare.code, 0, "{}\n{}", bare.stdout, bare.stderr);
    assert!(!bare.stdout.contains("eval.captures"), "{}", bare.stdout);
}
