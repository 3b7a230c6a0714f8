//! Datasets: versioned by name, immutable in the database itself, read by `name@vN` or name.

use crate::backend::Backend;
use serde_json::json;
use std::sync::{Arc, Barrier};
use switchyard_evalstore::StoreError;

fn datasets_are_versioned_and_read_back_in_order(b: &mut Backend) {
    let items = vec![
        json!({"id": "1", "input": {"messages": [{"role": "user", "content": "hi"}]}}),
        json!({"id": "2", "expected": {"contains": "ok"}, "n": 0.1}),
    ];
    let scorers = json!([{"kind": "exact"}]);
    let s = &mut b.store;
    let v1 = s
        .create_dataset(
            "support",
            ("captures workload=support", Some("support")),
            &scorers,
            &items,
        )
        .unwrap();
    let v2 = s
        .create_dataset("support", ("import a.jsonl", None), &json!([]), &items[..1])
        .unwrap();
    s.create_dataset("billing", ("t", None), &json!([]), &items)
        .unwrap();
    assert_eq!(
        (v1.id.as_str(), v2.id.as_str()),
        ("support@v1", "support@v2")
    );
    let s = b.reopen();
    let (latest, got) = s.dataset("support").unwrap();
    assert_eq!((latest.version, got.len()), (2, 1));
    let (first, got) = s.dataset("support@v1").unwrap();
    assert_eq!(first, v1);
    assert_eq!(got, items);
    let listed: Vec<String> = s.datasets().unwrap().into_iter().map(|d| d.id).collect();
    assert_eq!(listed, ["billing@v1", "support@v1", "support@v2"]);
    assert!(matches!(s.dataset("nope"), Err(StoreError::NoDataset(_))));
}

fn a_stored_dataset_cannot_be_changed_even_with_raw_sql(b: &mut Backend) {
    let items = vec![json!({"id": "1"})];
    b.store
        .create_dataset("support", ("t", None), &json!([]), &items)
        .unwrap();
    for sql in [
        "UPDATE dataset_items SET item = '{}' WHERE dataset_id = 'support@v1'",
        "DELETE FROM dataset_items WHERE dataset_id = 'support@v1'",
        "UPDATE datasets SET item_count = 9 WHERE id = 'support@v1'",
    ] {
        let err = b.raw(sql).expect_err(sql);
        assert!(err.contains("immutable"), "{sql}: {err}");
    }
    assert_eq!(b.store.dataset("support@v1").unwrap().1, items);
}

fn bad_dataset_names_and_empty_datasets_are_refused(b: &mut Backend) {
    let s = &mut b.store;
    for name in ["a@b", "", "  ", &"x".repeat(129)] {
        let e = s
            .create_dataset(name, ("t", None), &json!([]), &[json!({})])
            .unwrap_err();
        assert!(e.to_string().contains("not a dataset name"), "{e}");
    }
    let e = s
        .create_dataset("empty", ("t", None), &json!([]), &[])
        .unwrap_err();
    assert!(e.to_string().contains("at least one item"), "{e}");
    assert!(s.datasets().unwrap().is_empty());
}

/// Two processes making versions of one dataset at once get consecutive numbers.
fn versions_made_at_once_are_all_distinct(b: &mut Backend) {
    let start = Arc::new(Barrier::new(3));
    let makers: Vec<_> = (0..3)
        .map(|w| {
            let (mut s, start) = (b.reopen(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 0..4 {
                    s.create_dataset(
                        "shared",
                        ("t", None),
                        &json!([]),
                        &[json!({"w": w, "i": i})],
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for m in makers {
        m.join().unwrap();
    }
    let versions: Vec<i64> = b
        .store
        .datasets()
        .unwrap()
        .into_iter()
        .map(|d| d.version)
        .collect();
    assert_eq!(versions, (1..=12).collect::<Vec<_>>());
}

crate::conformance!(
    datasets_are_versioned_and_read_back_in_order,
    a_stored_dataset_cannot_be_changed_even_with_raw_sql,
    bad_dataset_names_and_empty_datasets_are_refused,
    versions_made_at_once_are_all_distinct,
);
