use super::*;
use crate::LedgerError;
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

/// A store that can be switched off: while `down`, every append fails like a lost
/// connection; it keeps each request id once (as the real stores do).
#[derive(Clone, Default)]
struct Switchable {
    down: Arc<AtomicBool>,
    rows: Arc<Mutex<Vec<String>>>,
}

impl RecordSink for Switchable {
    fn append(&mut self, batch: &[Record]) -> Result<usize, LedgerError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(LedgerError::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "connection refused (test)",
            )));
        }
        let mut rows = lock(&self.rows);
        let mut new = 0;
        for r in batch {
            if !rows.contains(&r.request_id) {
                rows.push(r.request_id.clone());
                new += 1;
            }
        }
        Ok(new)
    }
}

fn record(id: &str) -> Record {
    let mut r: Record = serde_json::from_value(serde_json::json!({
        "request_id": id, "ts": "2026-11-03T10:30:00Z", "kind": "chat", "workload": null,
        "tags": [], "key_id": null, "team": null, "route": "r", "provider": null, "model": null,
        "attempts": [], "status": 200, "error_class": null, "streamed": false, "shadow": false,
        "features": "", "usage": {"input": 1, "cached_input": 0, "cache_write": 0,
        "cache_write_1h": 0, "output": 1, "reasoning": 0}, "cost_usd": null,
        "price_version": null, "latency_ms": 1.0, "ttft_ms": null, "overhead_us": 0,
        "usage_estimated": false, "batch": false
    }))
    .unwrap();
    r.request_id = id.into();
    r
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sy-rec-spool-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn cfg(dir: &std::path::Path) -> RecorderConfig {
    RecorderConfig {
        batch_size: 8,
        flush_interval: Duration::from_millis(20),
        spool_dir: Some(dir.to_path_buf()),
    }
}

fn ids(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("r{i}")).collect()
}

#[test]
fn records_refused_by_the_store_are_spooled_then_replayed_in_order_once_each() {
    let dir = scratch("outage");
    let store = Switchable::default();
    let (rec, handle) = Recorder::spawn(Box::new(store.clone()), cfg(&dir)).unwrap();
    for id in ids(0..10) {
        rec.record(record(&id));
    }
    rec.flush();
    store.down.store(true, Ordering::SeqCst);
    for id in ids(10..40) {
        rec.record(record(&id));
    }
    rec.flush();
    let s = rec.stats();
    assert_eq!((s.spooled, s.in_memory), (30, 0), "{s:?}");
    assert!(s.spool_bytes > 0 && s.failed_commits >= 1, "{s:?}");
    assert!(
        s.last_error
            .as_deref()
            .unwrap_or("")
            .contains("connection refused")
    );
    store.down.store(false, Ordering::SeqCst);
    for id in ids(40..45) {
        rec.record(record(&id));
    }
    rec.flush();
    let s = handle.shutdown();
    assert_eq!((s.spooled, s.spool_bytes, s.written), (0, 0, 45), "{s:?}");
    assert_eq!(s.replayed, 30);
    assert_eq!(s.last_error, None);
    assert_eq!(
        *lock(&store.rows),
        ids(0..45),
        "every record once, in order"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_spool_left_at_shutdown_is_replayed_by_the_next_start() {
    let dir = scratch("restart");
    let store = Switchable::default();
    store.down.store(true, Ordering::SeqCst);
    let (rec, handle) = Recorder::spawn(Box::new(store.clone()), cfg(&dir)).unwrap();
    for id in ids(0..20) {
        rec.record(record(&id));
    }
    let s = handle.shutdown();
    assert_eq!((s.written, s.spooled), (0, 20), "{s:?}");
    store.down.store(false, Ordering::SeqCst);
    let (rec, handle) = Recorder::spawn(Box::new(store.clone()), cfg(&dir)).unwrap();
    assert_eq!(rec.stats().spooled, 20, "counted at start");
    rec.record(record("r20"));
    rec.flush();
    let s = handle.shutdown();
    assert_eq!((s.written, s.spooled), (21, 0), "{s:?}");
    assert_eq!(*lock(&store.rows), ids(0..21));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_a_writable_spool_records_wait_in_memory_and_say_so() {
    let dir = scratch("nospool");
    std::fs::create_dir_all(&dir).unwrap();
    let not_a_dir = dir.join("file");
    std::fs::write(&not_a_dir, "x").unwrap();
    let store = Switchable::default();
    store.down.store(true, Ordering::SeqCst);
    let (rec, handle) = Recorder::spawn(Box::new(store.clone()), cfg(&not_a_dir)).unwrap();
    for id in ids(0..5) {
        rec.record(record(&id));
    }
    rec.flush();
    let s = rec.stats();
    assert!(s.spool.is_err(), "{s:?}");
    assert_eq!((s.in_memory, s.spooled), (5, 0), "{s:?}");
    store.down.store(false, Ordering::SeqCst);
    rec.flush();
    let s = handle.shutdown();
    assert_eq!((s.written, s.in_memory), (5, 0), "{s:?}");
    let mut seen: HashMap<String, ()> = HashMap::new();
    for id in lock(&store.rows).iter() {
        assert!(seen.insert(id.clone(), ()).is_none());
    }
    assert_eq!(seen.len(), 5);
    let _ = std::fs::remove_dir_all(&dir);
}
