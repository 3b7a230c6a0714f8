use super::*;

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

#[test]
fn a_line_is_answered_once_and_counted_by_state() {
    let mut s = Store::in_memory().unwrap();
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
    assert_eq!(
        j.counts,
        Counts {
            total: 3,
            completed: 1,
            failed: 1
        }
    );
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
}

#[test]
fn transitions_only_from_the_allowed_statuses() {
    let mut s = Store::in_memory().unwrap();
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
    s.finish_job("b1", [None, None], Stamp::Completed, 9)
        .unwrap();
    assert!(s.unfinished_jobs().unwrap().is_empty());
}

#[test]
fn listing_is_newest_first_per_owner_and_pages_after_an_id() {
    let mut s = Store::in_memory().unwrap();
    for (id, owner) in [("b1", Some("k1")), ("b2", Some("k2")), ("b3", Some("k1"))] {
        s.create_job(&job(id, owner), &[]).unwrap();
    }
    let ids = |v: Vec<JobRow>| v.into_iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.list_jobs(None, None, 10).unwrap()),
        ["b3", "b2", "b1"]
    );
    assert_eq!(
        ids(s.list_jobs(Some(Some("k1")), None, 10).unwrap()),
        ["b3", "b1"]
    );
    assert_eq!(ids(s.list_jobs(None, Some("b3"), 1).unwrap()), ["b2"]);
}

#[test]
fn finishing_a_job_stores_its_files() {
    let mut s = Store::in_memory().unwrap();
    s.create_job(&job("b1", Some("k1")), &[]).unwrap();
    let row = FileRow {
        id: "file-out".into(),
        owner: Some("k1".into()),
        purpose: "batch_output".into(),
        filename: "batch_b1_output.jsonl".into(),
        bytes: 3,
        created_at: 7,
    };
    let out = Produced {
        row: row.clone(),
        content: b"abc",
    };
    s.finish_job("b1", [Some(out), None], Stamp::Completed, 7)
        .unwrap();
    let j = s.job("b1").unwrap().unwrap();
    assert_eq!(j.output_file_id.as_deref(), Some("file-out"));
    assert_eq!(j.error_file_id, None);
    assert_eq!(s.file("file-out").unwrap(), Some(row));
    assert_eq!(s.file_content("file-out").unwrap().unwrap(), b"abc");
    assert!(s.delete_file("file-out").unwrap());
    assert!(!s.delete_file("file-out").unwrap());
}
