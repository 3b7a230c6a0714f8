//! The batch tables: files, jobs and their statuses, lines answered once, and the claims
//! that let replicas share a batch without running a line twice.

use crate::backend::Backend;
use std::collections::BTreeMap;
use std::sync::{Arc, Barrier, Mutex};
use switchyard_ledger::batch::{
    Claim, Counts, FileRow, JobRow, LineState, NewLine, Produced, Stamp,
};

fn job(id: &str, owner: Option<&str>) -> JobRow {
    JobRow {
        id: id.into(),
        owner: owner.map(str::to_string),
        endpoint: "/v1/chat/completions".into(),
        input_file_id: "file-1".into(),
        completion_window: "24h".into(),
        status: "validating".into(),
        created_at: 100,
        expires_at: 100 + 86_400,
        ..JobRow::default()
    }
}

fn pending(line: u64, id: &str) -> NewLine {
    NewLine {
        line,
        custom_id: Some(id.into()),
        state: LineState::Pending,
        body: Some(format!("{{\"n\":{line}}}")),
        result: None,
    }
}

fn claim(owner: &str, now_ms: i64, lease_ms: i64) -> Claim {
    Claim {
        owner: owner.into(),
        now_ms,
        lease_until_ms: now_ms + lease_ms,
    }
}

fn lines_of(v: &[switchyard_ledger::batch::PendingLine]) -> Vec<u64> {
    v.iter().map(|l| l.line).collect()
}

fn a_line_is_answered_once_and_counted_by_state(b: &mut Backend) {
    let mut s = b.batch();
    let bad = NewLine {
        line: 2,
        custom_id: None,
        state: LineState::Failed,
        body: None,
        result: Some("{\"error\":1}".into()),
    };
    s.create_job(&job("b1", None), &[pending(1, "a"), bad, pending(3, "c")])
        .unwrap();
    assert_eq!(s.pending_lines("b1").unwrap().len(), 2);
    assert!(s.finish_line("b1", 1, LineState::Ok, "{\"ok\":1}").unwrap());
    assert!(!s.finish_line("b1", 1, LineState::Failed, "{}").unwrap());
    let j = s.job("b1").unwrap().unwrap();
    let want = Counts {
        total: 3,
        completed: 1,
        failed: 1,
    };
    assert_eq!((j.counts, j.counts.pending()), (want, 1));
    let left = s.pending_lines("b1").unwrap();
    assert_eq!((left[0].line, left[0].custom_id.as_str()), (3, "c"));
    assert_eq!(left[0].body, "{\"n\":3}");
    assert_eq!(left[0].upstream, None);
    s.set_upstream("b1", &[3], Some("batch_up")).unwrap();
    assert_eq!(
        s.pending_lines("b1").unwrap()[0].upstream.as_deref(),
        Some("batch_up")
    );
    assert_eq!(s.results("b1", LineState::Ok).unwrap(), ["{\"ok\":1}"]);
    assert_eq!(
        s.results("b1", LineState::Failed).unwrap(),
        ["{\"error\":1}"]
    );
}

fn transitions_only_from_the_allowed_statuses(b: &mut Backend) {
    let mut s = b.batch();
    s.create_job(&job("b1", None), &[]).unwrap();
    assert!(
        s.transition("b1", &["validating"], Stamp::InProgress, 5)
            .unwrap()
    );
    assert!(
        !s.transition("b1", &["validating"], Stamp::Failed, 6)
            .unwrap()
    );
    let j = s.job("b1").unwrap().unwrap();
    assert_eq!(j.status, "in_progress");
    assert_eq!(j.stamps.in_progress_at, Some(5));
    assert_eq!(s.unfinished_jobs().unwrap(), ["b1"]);
    assert!(
        s.finish_job("b1", [None, None], Stamp::Completed, 9)
            .unwrap()
    );
    assert!(s.unfinished_jobs().unwrap().is_empty());
    assert_eq!(s.job("b1").unwrap().unwrap().stamps.completed_at, Some(9));
    assert_eq!(s.job("nope").unwrap(), None);
}

fn listing_is_newest_first_per_owner_and_pages_after_an_id(b: &mut Backend) {
    let mut s = b.batch();
    for (id, owner) in [("b1", Some("k1")), ("b2", Some("k2")), ("b3", Some("k1"))] {
        s.create_job(&job(id, owner), &[]).unwrap();
    }
    s.create_job(&job("b4", None), &[]).unwrap();
    let ids = |v: Vec<JobRow>| v.into_iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.list_jobs(None, None, 10).unwrap()),
        ["b4", "b3", "b2", "b1"]
    );
    assert_eq!(
        ids(s.list_jobs(Some(Some("k1")), None, 10).unwrap()),
        ["b3", "b1"]
    );
    assert_eq!(ids(s.list_jobs(Some(None), None, 10).unwrap()), ["b4"]);
    assert_eq!(ids(s.list_jobs(None, Some("b3"), 1).unwrap()), ["b2"]);
}

fn file_row(id: &str) -> FileRow {
    FileRow {
        id: id.into(),
        owner: Some("k1".into()),
        purpose: "batch_output".into(),
        filename: format!("{id}.jsonl"),
        bytes: 3,
        created_at: 7,
    }
}

fn finishing_a_job_stores_its_files_once(b: &mut Backend) {
    let mut s = b.batch();
    let mut other = b.batch();
    s.create_job(&job("b1", Some("k1")), &[]).unwrap();
    let out = Produced {
        row: file_row("file-out"),
        content: b"abc",
    };
    assert!(
        s.finish_job("b1", [Some(out), None], Stamp::Completed, 7)
            .unwrap()
    );
    // A second runner ending the same job stores nothing and changes nothing.
    let late = Produced {
        row: file_row("file-late"),
        content: b"xyz",
    };
    assert!(
        !other
            .finish_job("b1", [Some(late), None], Stamp::Cancelled, 8)
            .unwrap()
    );
    assert_eq!(other.file("file-late").unwrap(), None);
    let j = s.job("b1").unwrap().unwrap();
    assert_eq!(
        (
            j.status.as_str(),
            j.output_file_id.as_deref(),
            j.error_file_id
        ),
        ("completed", Some("file-out"), None)
    );
    assert_eq!(s.file("file-out").unwrap(), Some(file_row("file-out")));
    assert_eq!(s.file_content("file-out").unwrap().unwrap(), b"abc");
    assert!(s.delete_file("file-out").unwrap());
    assert!(!s.delete_file("file-out").unwrap());
    assert_eq!(s.file_content("file-out").unwrap(), None);
}

fn an_uploaded_file_keeps_its_bytes(b: &mut Backend) {
    let s = b.batch();
    let content: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let row = FileRow {
        bytes: content.len() as u64,
        owner: None,
        ..file_row("file-in")
    };
    s.put_file(&row, &content).unwrap();
    assert!(s.put_file(&row, b"again").is_err(), "ids are unique");
    assert_eq!(b.batch().file("file-in").unwrap(), Some(row));
    assert_eq!(b.batch().file_content("file-in").unwrap(), Some(content));
}

fn a_claimed_line_is_not_claimed_by_another_until_its_lease_runs_out(b: &mut Backend) {
    let mut a = b.batch();
    let other = b.batch();
    let lines: Vec<NewLine> = (1..=5).map(|n| pending(n, &format!("c{n}"))).collect();
    a.create_job(&job("b1", None), &lines).unwrap();
    let t = 1_000_000;
    assert_eq!(
        lines_of(&a.claim_lines("b1", &claim("A", t, 30_000), 3).unwrap()),
        [1, 2, 3]
    );
    assert_eq!(
        lines_of(&other.claim_lines("b1", &claim("B", t, 30_000), 10).unwrap()),
        [4, 5]
    );
    assert!(
        other
            .claim_lines("b1", &claim("C", t + 1, 30_000), 10)
            .unwrap()
            .is_empty()
    );
    // A answers line 1, renews its lease; B's lease runs out.
    assert!(a.finish_line("b1", 1, LineState::Ok, "{}").unwrap());
    assert_eq!(a.renew_claims(&claim("A", t + 20_000, 30_000)).unwrap(), 2);
    let late = claim("C", t + 40_000, 30_000);
    assert_eq!(
        lines_of(&other.claim_lines("b1", &late, 10).unwrap()),
        [4, 5]
    );
    // The holder may claim its own lines again; a released line is free at once.
    assert_eq!(
        lines_of(
            &a.claim_lines("b1", &claim("A", t + 40_000, 30_000), 10)
                .unwrap()
        ),
        [2, 3]
    );
    assert_eq!(a.release_claims("A").unwrap(), 2);
    let d = other
        .claim_lines("b1", &claim("D", t + 40_001, 30_000), 10)
        .unwrap();
    assert_eq!(lines_of(&d), [2, 3]);
    assert_eq!(d[0].body, "{\"n\":2}");
    assert_eq!(
        a.pending_lines("b1").unwrap().len(),
        4,
        "claims do not answer lines"
    );
}

/// Workers on their own connections claim small chunks of one batch at once, as replicas
/// sharing the tables do; every line must run exactly once.
fn concurrent_claimers_run_every_line_exactly_once(b: &mut Backend) {
    const LINES: u64 = 300;
    const WORKERS: usize = 4;
    let lines: Vec<NewLine> = (1..=LINES).map(|n| pending(n, &format!("c{n}"))).collect();
    b.batch().create_job(&job("b1", None), &lines).unwrap();
    let ran: Arc<Mutex<BTreeMap<u64, Vec<usize>>>> = Arc::default();
    let start = Arc::new(Barrier::new(WORKERS));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (store, ran, start) = (b.batch(), ran.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let c = claim(&format!("replica-{w}"), 1_000, 60_000);
                loop {
                    let got = store.claim_lines("b1", &c, 7).unwrap();
                    if got.is_empty() {
                        break;
                    }
                    for l in got {
                        ran.lock().unwrap().entry(l.line).or_default().push(w);
                        assert!(
                            store
                                .finish_line("b1", l.line, LineState::Ok, "{}")
                                .unwrap()
                        );
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let ran = ran.lock().unwrap();
    assert_eq!(ran.len() as u64, LINES, "every line ran");
    let twice: Vec<_> = ran.iter().filter(|(_, by)| by.len() > 1).collect();
    assert!(twice.is_empty(), "lines run more than once: {twice:?}");
    let j = b.batch().job("b1").unwrap().unwrap();
    assert_eq!((j.counts.completed, j.counts.pending()), (LINES, 0));
}

fn jobs_created_at_once_get_distinct_sequence_numbers(b: &mut Backend) {
    let start = Arc::new(Barrier::new(4));
    let makers: Vec<_> = (0..4)
        .map(|w| {
            let (mut store, start) = (b.batch(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 0..5 {
                    store
                        .create_job(&job(&format!("b{w}_{i}"), None), &[])
                        .unwrap();
                }
            })
        })
        .collect();
    for m in makers {
        m.join().unwrap();
    }
    // Paging one at a time visits every job once: no two share a sequence number.
    let s = b.batch();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    while let Some(next) = s.list_jobs(None, after.as_deref(), 1).unwrap().pop() {
        after = Some(next.id.clone());
        seen.push(next.id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 20);
}

crate::conformance!(
    a_line_is_answered_once_and_counted_by_state,
    transitions_only_from_the_allowed_statuses,
    listing_is_newest_first_per_owner_and_pages_after_an_id,
    finishing_a_job_stores_its_files_once,
    an_uploaded_file_keeps_its_bytes,
    a_claimed_line_is_not_claimed_by_another_until_its_lease_runs_out,
    concurrent_claimers_run_every_line_exactly_once,
    jobs_created_at_once_get_distinct_sequence_numbers,
);

#[test]
fn a_refused_write_on_postgres_says_why() {
    let Some(b) = crate::backend::Backend::postgres() else {
        return;
    };
    let s = b.batch();
    s.put_file(&file_row("file-1"), b"a").unwrap();
    let e = s
        .put_file(&file_row("file-1"), b"b")
        .unwrap_err()
        .to_string();
    assert!(e.contains("duplicate key"), "{e}");
}
