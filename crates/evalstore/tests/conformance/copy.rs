//! What `ledger copy` uses: every table read page by page from a cursor and written
//! idempotently into the other backend, with the same reads on both ends afterwards.

use crate::backend::Backend;
use crate::captures::{at, capture};
use crate::runs::{run, shadow};
use serde_json::json;
use std::collections::BTreeMap;
use switchyard_evalstore::copy::{Cursor, Table};
use switchyard_evalstore::{CaptureQuery, Store};

fn fill(s: &mut dyn Store) {
    for i in 0..5 {
        s.insert_capture(&capture(&format!("c{i}"), at(1 + i, 0), Some("support")))
            .unwrap();
    }
    // Dataset items whose JSON text an item re-serialised would not reproduce.
    s.create_dataset(
        "support",
        ("t", Some("support")),
        &json!([{"kind": "exact"}]),
        &[
            json!({"id": "1", "n": 1.0}),
            json!({"id": "2"}),
            json!({"id": "3"}),
        ],
    )
    .unwrap();
    s.create_dataset("support", ("t", None), &json!([]), &[json!({"id": "4"})])
        .unwrap();
    s.save_run(&run("r1", at(1, 0), Some("support"), "groq/llama"))
        .unwrap();
    s.save_run(&run("r2", at(2, 0), None, "groq/llama"))
        .unwrap();
    for (i, score) in [0.5, 0.75, 1.0].into_iter().enumerate() {
        s.insert_shadow(&shadow(
            at(1 + i as u32, 0),
            Some("support"),
            "groq/llama",
            score,
        ))
        .unwrap();
    }
}

/// Copies `table` two rows a page, resuming from the last cursor as a restarted copy does.
fn copy_table(from: &dyn Store, to: &mut dyn Store, table: Table) -> u64 {
    let mut after: Option<Cursor> = None;
    let mut new = 0;
    loop {
        let page = from.page(table, after.as_ref(), 2).unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.cursor());
        assert!(page.iter().all(|r| r.table() == table));
        new += to.insert_rows(&page).unwrap();
    }
    new
}

fn other(b: &Backend) -> Backend {
    if b.is_postgres() {
        Backend::sqlite()
    } else {
        Backend::postgres().unwrap_or_else(Backend::sqlite)
    }
}

fn a_copy_moves_every_row_once_and_reads_the_same_on_both_ends(b: &mut Backend) {
    fill(b.store.as_mut());
    let mut to = other(b);
    let mut counts = BTreeMap::new();
    for t in Table::ALL {
        let n = copy_table(b.store.as_ref(), to.store.as_mut(), t);
        assert_eq!(n, b.store.count(t).unwrap(), "{t:?}");
        assert_eq!(to.store.count(t).unwrap(), n, "{t:?}");
        counts.insert(t.name(), n);
    }
    assert_eq!(
        counts.values().copied().collect::<Vec<_>>(),
        [5, 4, 2, 2, 3],
        "{counts:?}"
    );
    // Copied again (a resumed copy that starts over): nothing is written twice.
    for t in Table::ALL {
        assert_eq!(
            copy_table(b.store.as_ref(), to.store.as_mut(), t),
            0,
            "{t:?}"
        );
    }
    let (src, dst) = (b.store.as_ref(), to.store.as_ref());
    let q = CaptureQuery::default();
    assert_eq!(src.captures(&q).unwrap(), dst.captures(&q).unwrap());
    assert_eq!(src.datasets().unwrap(), dst.datasets().unwrap());
    assert_eq!(
        src.dataset("support@v1").unwrap(),
        dst.dataset("support@v1").unwrap()
    );
    assert_eq!(src.latest_runs().unwrap(), dst.latest_runs().unwrap());
    assert_eq!(
        src.shadow_stats(at(1, 0)).unwrap(),
        dst.shadow_stats(at(1, 0)).unwrap()
    );
    // The target goes on numbering shadow results after the copied ones.
    to.store
        .insert_shadow(&shadow(at(9, 0), Some("support"), "groq/llama", 0.0))
        .unwrap();
    let ids: Vec<i64> = to
        .store
        .page(Table::ShadowResults, None, 10)
        .unwrap()
        .iter()
        .map(|r| r.cursor().n)
        .collect();
    assert_eq!(ids.len(), 4);
    assert!(ids[3] > ids[2], "{ids:?}");
}

fn pages_start_after_the_cursor_in_key_order(b: &mut Backend) {
    fill(b.store.as_mut());
    let s = b.store.as_ref();
    let first = s.page(Table::DatasetItems, None, 2).unwrap();
    let keys: Vec<Cursor> = first.iter().map(|r| r.cursor()).collect();
    let item = |key: &str, n| Cursor { key: key.into(), n };
    assert_eq!(keys, [item("support@v1", 0), item("support@v1", 1)]);
    let rest = s
        .page(Table::DatasetItems, Some(&keys[1]), 10)
        .unwrap()
        .iter()
        .map(|r| r.cursor())
        .collect::<Vec<_>>();
    assert_eq!(rest, [item("support@v1", 2), item("support@v2", 0)]);
    let caps = s
        .page(Table::Captures, Some(&item("c2", 0)), 10)
        .unwrap()
        .iter()
        .map(|r| r.cursor().key)
        .collect::<Vec<_>>();
    assert_eq!(caps, ["c3", "c4"]);
    assert!(
        s.page(Table::Runs, Some(&item("r2", 0)), 10)
            .unwrap()
            .is_empty()
    );
}

crate::conformance!(
    a_copy_moves_every_row_once_and_reads_the_same_on_both_ends,
    pages_start_after_the_cursor_in_key_order,
);
