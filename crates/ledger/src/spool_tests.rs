use super::*;
use crate::{
    Attempt, AttemptOutcome, Dimension, RecordKind, RecordSink, SqliteStore, Store, SummaryQuery,
};
use chrono::{TimeZone, Utc};
use std::str::FromStr;
use switchyard_primitives::{Money, TokenUsage};

fn record(id: &str, cost: &str) -> Record {
    Record {
        request_id: id.into(),
        ts: Utc.with_ymd_and_hms(2026, 11, 3, 10, 30, 0).unwrap(),
        kind: RecordKind::Chat,
        workload: Some("w".into()),
        tags: vec![("team".into(), "a,b".into())],
        key_id: Some("key1".into()),
        team: None,
        route: "r".into(),
        provider: Some("openai".into()),
        model: Some("m".into()),
        attempts: vec![Attempt {
            provider: "openai".into(),
            model: "m".into(),
            outcome: AttemptOutcome::Ok,
            status: Some(200),
            latency_ms: 12,
            error: None,
        }],
        status: 200,
        error_class: None,
        streamed: false,
        shadow: false,
        features: "tools".into(),
        usage: TokenUsage {
            input: 100,
            cached_input: 10,
            cache_write: 0,
            cache_write_1h: 0,
            output: 50,
            reasoning: 5,
        },
        cost_usd: Some(Money::from_str(cost).unwrap()),
        price_version: Some("openai/m@2025-01-01".into()),
        latency_ms: 20.3,
        ttft_ms: Some(7.25),
        overhead_us: 40,
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

fn batch(ids: &[&str]) -> Vec<Record> {
    ids.iter().map(|i| record(i, "0.001")).collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sy-spool-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Replays everything, returning the request ids in the order they were handed over.
fn drain(s: &mut Spool) -> Vec<String> {
    let mut seen = Vec::new();
    let n = s
        .replay(&mut |b: &[Record]| -> Result<(), ()> {
            seen.extend(b.iter().map(|r| r.request_id.clone()));
            Ok(())
        })
        .unwrap()
        .unwrap();
    assert_eq!(n as usize, seen.len());
    seen
}

#[test]
fn crc32_matches_the_ieee_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

#[test]
fn a_record_survives_the_spool_unchanged() {
    let dir = scratch("roundtrip");
    let r = record("x", "0.123456789");
    let mut s = Spool::claim(&dir).unwrap();
    s.append(std::slice::from_ref(&r)).unwrap();
    let mut back = Vec::new();
    s.replay(&mut |b: &[Record]| -> Result<(), ()> {
        back.extend_from_slice(b);
        Ok(())
    })
    .unwrap()
    .unwrap();
    assert_eq!(back, vec![r]);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spool_left_by_a_previous_run_replays_in_append_order_and_is_emptied() {
    let dir = scratch("order");
    let mut s = Spool::claim(&dir).unwrap();
    s.append(&batch(&["a", "b"])).unwrap();
    s.append(&batch(&["c"])).unwrap();
    s.append(&batch(&["d", "e", "f"])).unwrap();
    let path = s.path().to_path_buf();
    drop(s);
    let mut s = Spool::claim(&dir).unwrap();
    assert_eq!(s.path(), path, "the same slot is claimed again");
    assert_eq!(s.records(), 6);
    assert_eq!(drain(&mut s), ["a", "b", "c", "d", "e", "f"]);
    assert!(s.is_empty());
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_torn_last_entry_is_set_aside_and_later_appends_stay_readable() {
    let dir = scratch("torn");
    let mut s = Spool::claim(&dir).unwrap();
    s.append(&batch(&["a"])).unwrap();
    s.append(&batch(&["b"])).unwrap();
    let (path, whole) = (s.path().to_path_buf(), s.bytes());
    drop(s);
    // A crash half way through writing a third entry.
    let third = encode(&batch(&["c"])).unwrap();
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&third[..third.len() / 2]).unwrap();
    drop(f);
    let mut s = Spool::claim(&dir).unwrap();
    assert_eq!((s.records(), s.bytes()), (2, whole));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
    let aside: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".torn-"))
        .collect();
    assert_eq!(aside.len(), 1, "the torn bytes are kept beside the spool");
    assert_eq!(
        std::fs::metadata(aside[0].path()).unwrap().len() as usize,
        third.len() / 2
    );
    s.append(&batch(&["d"])).unwrap();
    assert_eq!(drain(&mut s), ["a", "b", "d"]);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_entry_whose_checksum_fails_ends_the_readable_spool() {
    let dir = scratch("crc");
    let mut s = Spool::claim(&dir).unwrap();
    s.append(&batch(&["a"])).unwrap();
    let first = s.bytes();
    s.append(&batch(&["b"])).unwrap();
    let path = s.path().to_path_buf();
    drop(s);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let mut s = Spool::claim(&dir).unwrap();
    assert_eq!(s.bytes(), first);
    assert_eq!(drain(&mut s), ["a"]);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_refused_entry_is_offered_again_and_committed_ones_are_not() {
    let dir = scratch("resume");
    let mut s = Spool::claim(&dir).unwrap();
    for id in ["a", "b", "c"] {
        s.append(&batch(&[id])).unwrap();
    }
    let mut offered = Vec::new();
    let r = s
        .replay(&mut |b: &[Record]| {
            offered.push(b[0].request_id.clone());
            if b[0].request_id == "b" {
                Err("down")
            } else {
                Ok(())
            }
        })
        .unwrap();
    assert_eq!(r, Err("down"));
    assert_eq!(offered, ["a", "b"]);
    assert_eq!(s.records(), 2, "b and c wait");
    assert!(!s.is_empty());
    assert_eq!(drain(&mut s), ["b", "c"]);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_replay_sent_twice_writes_each_record_and_its_cost_once() {
    // A crash after the store committed and before the spool was emptied: the next start
    // replays the same entries again.
    let dir = scratch("twice");
    let mut s = Spool::claim(&dir).unwrap();
    s.append(&batch(&["a", "b"])).unwrap();
    s.append(&batch(&["c"])).unwrap();
    let path = s.path().to_path_buf();
    let copy = std::fs::read(&path).unwrap();
    let mut store = SqliteStore::in_memory().unwrap();
    let into = |s: &mut Spool, store: &mut SqliteStore| {
        s.replay(&mut |b: &[Record]| store.append(b).map(|_| ()))
            .unwrap()
            .unwrap()
    };
    assert_eq!(into(&mut s, &mut store), 3);
    drop(s);
    std::fs::write(&path, &copy).unwrap();
    let mut s = Spool::claim(&dir).unwrap();
    assert_eq!(into(&mut s, &mut store), 3, "handed over again");
    assert_eq!(store.count().unwrap(), 3);
    let rows = store
        .summary(&SummaryQuery {
            by: Dimension::Workload,
            since: None,
            include_shadow: false,
        })
        .unwrap();
    assert_eq!(
        rows[0].cost_usd.to_string(),
        "0.003",
        "the rollup counted once"
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_recorders_in_one_process_or_two_processes_never_share_a_spool() {
    let dir = scratch("slots");
    let a = Spool::claim(&dir).unwrap();
    let b = Spool::claim(&dir).unwrap();
    assert_ne!(a.path(), b.path());
    // A lock naming a live process that is not us (pid 1 runs on every Linux box) is honoured.
    drop(b);
    let lock1 = dir.canonicalize().unwrap().join("ledger-1.lock");
    std::fs::write(&lock1, "1").unwrap();
    let c = Spool::claim(&dir).unwrap();
    assert!(c.path().ends_with("ledger-2.spool"), "{:?}", c.path());
    // A lock whose process is gone is stale and taken over.
    drop(c);
    std::fs::write(&lock1, "4000000000").unwrap();
    let d = Spool::claim(&dir).unwrap();
    assert!(d.path().ends_with("ledger-1.spool"), "{:?}", d.path());
    drop((a, d));
    let _ = std::fs::remove_dir_all(&dir);
}
