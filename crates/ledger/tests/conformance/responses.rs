//! Stored Responses API conversations: put, owner-scoped get and delete, expiry and purge.

use crate::backend::Backend;
use switchyard_ledger::responses::Row;

fn row(id: &str, key: &str, expires_at: i64) -> Row {
    Row {
        id: id.into(),
        key_id: key.into(),
        created_at: 100,
        expires_at,
        response: format!(r#"{{"id":"{id}","object":"response"}}"#),
        input_items: r#"[{"role":"user","content":"hi"}]"#.into(),
        conversation: r#"[{"role":"user","content":"hi"}]"#.into(),
    }
}

fn a_response_reads_back_only_for_its_own_key(b: &mut Backend) {
    let s = b.responses();
    s.put(&row("resp_a", "key_1", 1_000)).unwrap();
    let got = s.get("resp_a", "key_1", 500).unwrap().unwrap();
    assert_eq!(got, row("resp_a", "key_1", 1_000));
    assert_eq!(
        s.get("resp_a", "key_2", 500).unwrap(),
        None,
        "another key's id reads as absent"
    );
    assert_eq!(s.get("resp_a", "", 500).unwrap(), None);
    assert_eq!(s.get("resp_missing", "key_1", 500).unwrap(), None);
    // A retried write replaces the row.
    let mut again = row("resp_a", "key_1", 2_000);
    again.response = "{}".into();
    s.put(&again).unwrap();
    assert_eq!(
        s.get("resp_a", "key_1", 1_500).unwrap().unwrap().response,
        "{}"
    );
}

fn delete_is_scoped_to_the_owner(b: &mut Backend) {
    let s = b.responses();
    s.put(&row("resp_a", "key_1", 1_000)).unwrap();
    assert!(!s.delete("resp_a", "key_2").unwrap());
    assert!(s.get("resp_a", "key_1", 0).unwrap().is_some());
    assert!(s.delete("resp_a", "key_1").unwrap());
    assert!(!s.delete("resp_a", "key_1").unwrap());
    assert!(s.get("resp_a", "key_1", 0).unwrap().is_none());
}

fn expired_responses_read_as_absent_and_are_purged(b: &mut Backend) {
    let s = b.responses();
    s.put(&row("resp_old", "", 1_000)).unwrap();
    s.put(&row("resp_new", "", 5_000)).unwrap();
    assert!(
        s.get("resp_old", "", 1_000).unwrap().is_none(),
        "expired at its expiry"
    );
    assert_eq!(s.purge(1_000).unwrap(), 1);
    assert_eq!(s.purge(1_000).unwrap(), 0);
    assert!(s.get("resp_new", "", 1_000).unwrap().is_some());
}

crate::conformance!(
    a_response_reads_back_only_for_its_own_key,
    delete_is_scoped_to_the_owner,
    expired_responses_read_as_absent_and_are_purged,
);
