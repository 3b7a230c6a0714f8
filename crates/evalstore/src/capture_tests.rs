//! The capture writer: redaction, retention and the full queue (`basics`), and its store
//! refusing writes: spooled, replayed in order when the store is back, and once only; a spool
//! left at a stop is replayed by the next writer.

use super::*;
use crate::copy::{Cursor, Row, Table};
use crate::{CaptureQuery, DatasetInfo, RunRecord, ShadowStats, SqliteStore};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::sync::atomic::AtomicBool;

/// A SQLite store whose writes fail while `down` is set, as a stopped PostgreSQL's do.
struct Flaky {
    inner: SqliteStore,
    down: Arc<AtomicBool>,
    /// Writes the store took, in order (what reached the database, duplicates included).
    seen: Arc<Mutex<Vec<String>>>,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Postgres(
                "cannot connect: connection refused".into(),
            ));
        }
        Ok(())
    }
}

impl Store for Flaky {
    fn insert_capture(&self, c: &Capture) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_capture(c)
    }
    fn prune_captures(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        self.check()?;
        self.inner.prune_captures(before)
    }
    fn capture_count(&self) -> Result<u64, StoreError> {
        self.inner.capture_count()
    }
    fn captures(&self, q: &CaptureQuery) -> Result<Vec<Capture>, StoreError> {
        self.inner.captures(q)
    }
    fn create_dataset(
        &mut self,
        name: &str,
        origin: (&str, Option<&str>),
        scorers: &Value,
        items: &[Value],
    ) -> Result<DatasetInfo, StoreError> {
        self.inner.create_dataset(name, origin, scorers, items)
    }
    fn datasets(&self) -> Result<Vec<DatasetInfo>, StoreError> {
        self.inner.datasets()
    }
    fn dataset(&self, id: &str) -> Result<(DatasetInfo, Vec<Value>), StoreError> {
        self.inner.dataset(id)
    }
    fn save_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        self.inner.save_run(run)
    }
    fn latest_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.inner.latest_runs()
    }
    fn insert_shadow(&self, s: &ShadowResult) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_shadow(s)
    }
    fn append(&mut self, batch: &[Entry]) -> Result<u64, StoreError> {
        self.check()?;
        let mut seen = self.seen.lock().unwrap();
        seen.extend(batch.iter().map(|e| match e {
            Entry::Capture(c) => c.id.clone(),
            Entry::Shadow(s) => s.request_id.clone().unwrap_or_default(),
        }));
        self.inner.append(batch)
    }
    fn shadow_stats(&self, since: DateTime<Utc>) -> Result<Vec<ShadowStats>, StoreError> {
        self.inner.shadow_stats(since)
    }
    fn page(&self, t: Table, after: Option<&Cursor>, limit: usize) -> Result<Vec<Row>, StoreError> {
        self.inner.page(t, after, limit)
    }
    fn insert_rows(&mut self, rows: &[Row]) -> Result<u64, StoreError> {
        self.inner.insert_rows(rows)
    }
    fn count(&self, table: Table) -> Result<u64, StoreError> {
        self.inner.count(table)
    }
}

fn wait_until(ok: impl Fn() -> bool, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    ok()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sy-evalspool-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn capture(id: &str) -> Capture {
    Capture {
        id: id.into(),
        ts: Utc::now(),
        workload: Some("support".into()),
        route: "chat".into(),
        provider: Some("openai".into()),
        model: Some("gpt-4o-mini".into()),
        key_id: None,
        team: None,
        tags: vec![],
        dialect: "openai".into(),
        request: json!({"messages": [{"role": "user", "content": format!("mail bob@example.com about {id}")}]}),
        output_text: format!("answer {id}"),
        tool_calls: json!([]),
        cost_usd: None,
        latency_ms: 10.0,
        input_tokens: 3,
        output_tokens: 2,
    }
}

fn shadow(request_id: &str) -> ShadowResult {
    ShadowResult {
        ts: Utc::now(),
        workload: Some("support".into()),
        route: "chat".into(),
        primary_model: "gpt-4o".into(),
        candidate: "groq/llama".into(),
        primary_score: 1.0,
        candidate_score: 0.5,
        primary_cost_usd: None,
        candidate_cost_usd: None,
        primary_latency_ms: 10.0,
        candidate_latency_ms: 9.0,
        detail: "exact".into(),
        request_id: Some(request_id.into()),
    }
}

struct Rig {
    dir: PathBuf,
    down: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Rig {
    fn new(name: &str) -> Rig {
        Rig {
            dir: scratch(name),
            down: Arc::new(AtomicBool::new(false)),
            seen: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn writer(&self) -> CaptureWriter {
        let store = Flaky {
            inner: SqliteStore::open(&self.dir.join("eval.db")).unwrap(),
            down: self.down.clone(),
            seen: self.seen.clone(),
        };
        let redact: Redact = Box::new(|c: &mut Capture| {
            let text = c.request.to_string().replace("bob@example.com", "[EMAIL]");
            c.request = serde_json::from_str(&text).unwrap();
        });
        let cfg = CaptureWriterConfig {
            retention: Duration::from_secs(86_400),
            capacity: 64,
            spool_dir: Some(self.dir.join("spool")),
        };
        CaptureWriter::start(Box::new(store), redact, cfg).unwrap()
    }

    fn stored_ids(&self) -> Vec<String> {
        let store = SqliteStore::open(&self.dir.join("eval.db")).unwrap();
        let mut ids: Vec<String> = store
            .captures(&CaptureQuery::default())
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        ids.sort();
        ids
    }

    fn spool_bytes(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("spool").join("eval-0.spool")).unwrap_or_default()
    }
}

#[test]
fn writes_refused_while_the_store_is_down_are_spooled_redacted_and_replayed_once_in_order() {
    let rig = Rig::new("outage");
    let w = rig.writer();
    assert!(w.submit(CaptureJob(capture("c0"))));
    w.flush();
    assert_eq!(w.stats().stored, 1);
    rig.down.store(true, Ordering::SeqCst);
    for i in 1..=3 {
        assert!(w.submit(CaptureJob(capture(&format!("c{i}")))));
        assert!(w.submit_shadow(shadow(&format!("req_s{i}"))));
        w.flush();
    }
    let s = w.stats();
    assert_eq!((s.stored, s.spooled, s.failed), (1, 6, 0), "{s:?}");
    let spool = rig.spool_bytes();
    assert!(!spool.is_empty(), "the spool is on disk");
    assert!(
        !spool.windows(15).any(|x| x == b"bob@example.com"),
        "the spool holds redacted captures only"
    );
    rig.down.store(false, Ordering::SeqCst);
    assert!(w.submit(CaptureJob(capture("c4"))));
    w.flush();
    let s = w.stats();
    assert_eq!(
        (s.stored, s.spooled, s.replayed, s.failed),
        (8, 0, 6, 0),
        "{s:?}"
    );
    assert!(rig.spool_bytes().is_empty(), "the spool is emptied");
    let seen = rig.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        ["c0", "c1", "req_s1", "c2", "req_s2", "c3", "req_s3", "c4"],
        "replayed in order, before what came after"
    );
    w.shutdown();
    assert_eq!(rig.stored_ids(), ["c0", "c1", "c2", "c3", "c4"]);
    let store = SqliteStore::open(&rig.dir.join("eval.db")).unwrap();
    assert_eq!(store.count(Table::ShadowResults).unwrap(), 3);
}

#[test]
fn a_spool_left_at_a_stop_is_replayed_by_the_next_writer_and_a_resent_entry_is_written_once() {
    let rig = Rig::new("restart");
    rig.down.store(true, Ordering::SeqCst);
    let w = rig.writer();
    for i in 0..3 {
        assert!(w.submit(CaptureJob(capture(&format!("c{i}")))));
    }
    w.submit_shadow(shadow("req_s0"));
    w.shutdown();
    assert_eq!(w.stats().spooled, 4);
    drop(w);
    // c1 and the shadow result reached the store before the crash (the commit went through,
    // the spool's truncation did not): replaying them must not write them again.
    let mut direct = SqliteStore::open(&rig.dir.join("eval.db")).unwrap();
    direct
        .append(&[
            Entry::Capture(capture("c1")),
            Entry::Shadow(shadow("req_s0")),
        ])
        .unwrap();
    rig.down.store(false, Ordering::SeqCst);
    let w = rig.writer();
    assert!(
        wait_until(|| w.stats().spooled == 0, Duration::from_secs(5)),
        "the next writer replays the spool at start, unasked"
    );
    let s = w.stats();
    assert_eq!((s.replayed, s.stored), (4, 2), "{s:?}");
    w.shutdown();
    assert_eq!(rig.stored_ids(), ["c0", "c1", "c2"]);
    assert_eq!(direct.count(Table::ShadowResults).unwrap(), 1);
}

#[test]
fn without_a_spool_a_refused_batch_is_dropped_and_counted() {
    let rig = Rig::new("nospool");
    rig.down.store(true, Ordering::SeqCst);
    let store = Flaky {
        inner: SqliteStore::open(&rig.dir.join("eval.db")).unwrap(),
        down: rig.down.clone(),
        seen: rig.seen.clone(),
    };
    let cfg = CaptureWriterConfig {
        retention: Duration::from_secs(86_400),
        capacity: 8,
        spool_dir: None,
    };
    let w = CaptureWriter::start(Box::new(store), Box::new(|_| {}), cfg).unwrap();
    w.submit(CaptureJob(capture("c0")));
    w.submit(CaptureJob(capture("c1")));
    w.flush();
    let s = w.stats();
    assert_eq!((s.stored, s.failed, s.spooled), (0, 2, 0), "{s:?}");
    w.shutdown();
}

/// Redaction, retention, datasets and the full queue, on a store that takes every write.
mod basics {

    use super::*;
    use crate::{CaptureQuery, SqliteStore};
    use serde_json::json;

    fn capture(id: &str, age_days: i64, text: &str) -> Capture {
        Capture {
            id: id.into(),
            ts: chrono::Utc::now() - chrono::Duration::days(age_days),
            workload: Some("support".into()),
            route: "chat".into(),
            provider: Some("openai".into()),
            model: Some("gpt-4o-mini".into()),
            key_id: None,
            team: None,
            tags: vec![("team".into(), "a".into())],
            dialect: "openai".into(),
            request: json!({"model": "chat", "messages": [{"role": "user", "content": text}]}),
            output_text: format!("answer to {text}"),
            tool_calls: json!([]),
            cost_usd: "0.0001".parse().ok(),
            latency_ms: 12.5,
            input_tokens: 10,
            output_tokens: 5,
        }
    }

    fn config(days: u64, capacity: usize, spool_dir: Option<PathBuf>) -> CaptureWriterConfig {
        CaptureWriterConfig {
            retention: Duration::from_secs(86_400 * days),
            capacity,
            spool_dir,
        }
    }

    fn temp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("sy-evalstore-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d.join("eval.db")
    }

    #[test]
    fn captures_are_redacted_before_storage_and_survive_a_restart() {
        let path = temp("redact");
        let redact: Redact = Box::new(|c: &mut Capture| {
            c.output_text = c.output_text.replace("alice@example.com", "[EMAIL]");
            if let Some(m) = c.request.pointer_mut("/messages/0/content") {
                *m = json!(
                    m.as_str()
                        .unwrap_or("")
                        .replace("alice@example.com", "[EMAIL]")
                );
            }
        });
        let w = CaptureWriter::spawn(&path, redact, config(30, 16, None)).unwrap();
        assert!(w.submit(CaptureJob(capture("c1", 0, "mail alice@example.com"))));
        w.flush();
        w.shutdown();
        assert_eq!(w.stats().stored, 1);
        let bytes = std::fs::read(&path).unwrap_or_default();
        let wal = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
        for b in [bytes, wal] {
            assert!(!b.windows(17).any(|x| x == b"alice@example.com"));
        }
        let store = SqliteStore::open(&path).unwrap();
        let got = store.captures(&CaptureQuery::default()).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].output_text, "answer to mail [EMAIL]");
        assert_eq!(got[0].tags, [("team".to_string(), "a".to_string())]);
        assert_eq!(got[0].cost_usd, "0.0001".parse().ok());
    }

    #[test]
    fn retention_deletes_old_captures_at_start() {
        let path = temp("retention");
        {
            let store = SqliteStore::open(&path).unwrap();
            store.insert_capture(&capture("old", 40, "x")).unwrap();
            store.insert_capture(&capture("new", 1, "y")).unwrap();
        }
        let w = CaptureWriter::spawn(&path, Box::new(|_| {}), config(30, 4, None)).unwrap();
        w.flush();
        assert_eq!(w.stats().pruned, 1);
        w.shutdown();
        let store = SqliteStore::open(&path).unwrap();
        let ids: Vec<_> = store
            .captures(&CaptureQuery::default())
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, ["new"]);
    }

    #[test]
    fn datasets_are_versioned_and_immutable() {
        let path = temp("datasets");
        let mut store = SqliteStore::open(&path).unwrap();
        let items = vec![json!({"id": "1"}), json!({"id": "2"})];
        let v1 = store
            .create_dataset("support", ("test", Some("support")), &json!([]), &items)
            .unwrap();
        let v2 = store
            .create_dataset("support", ("test", None), &json!([]), &items[..1])
            .unwrap();
        assert_eq!(
            (v1.id.as_str(), v2.id.as_str()),
            ("support@v1", "support@v2")
        );
        let (latest, got) = store.dataset("support").unwrap();
        assert_eq!((latest.version, got.len()), (2, 1));
        let (first, got) = store.dataset("support@v1").unwrap();
        assert_eq!((first.version, got), (1, items.clone()));
        // Any change to a stored version is refused by the database itself.
        let conn = rusqlite::Connection::open(&path).unwrap();
        assert!(
            conn.execute(
                "UPDATE dataset_items SET item = '{}' WHERE dataset_id = 'support@v1'",
                []
            )
            .is_err()
        );
        assert!(
            conn.execute(
                "DELETE FROM dataset_items WHERE dataset_id = 'support@v1'",
                []
            )
            .is_err()
        );
        assert!(matches!(
            store.dataset("nope"),
            Err(StoreError::NoDataset(_))
        ));
        assert!(
            store
                .create_dataset("a@b", ("t", None), &json!([]), &items)
                .is_err()
        );
        assert!(
            store
                .create_dataset("empty", ("t", None), &json!([]), &[])
                .is_err()
        );
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let path = temp("full");
        // A redaction that stalls the writer long enough to fill a one-slot queue.
        let redact: Redact = Box::new(|_| std::thread::sleep(Duration::from_millis(200)));
        let w = CaptureWriter::spawn(&path, redact, config(1, 1, None)).unwrap();
        let started = Instant::now();
        let accepted = (0..20)
            .filter(|i| w.submit(CaptureJob(capture(&format!("c{i}"), 0, "x"))))
            .count();
        assert!(
            started.elapsed() < Duration::from_millis(150),
            "submit never waits"
        );
        assert!(accepted < 20);
        assert_eq!(w.stats().dropped as usize, 20 - accepted);
        w.shutdown();
    }
}
