//! Virtual key rows: insert, read, the guarded changes and the version counter.

use crate::backend::Backend;
use crate::records::at;
use switchyard_ledger::keys::Row;

fn row(id: &str, hash: &str, day: u32) -> Row {
    Row {
        id: id.into(),
        hash: hash.into(),
        prefix: "sk-sy-AbCd".into(),
        spec: r#"{"team":"platform"}"#.into(),
        created_at: at(day, 9, 0),
        rotated_at: None,
        revoked_at: None,
    }
}

fn keys_read_back_oldest_first_and_every_change_bumps_the_version(b: &mut Backend) {
    let keys = b.keys();
    let watcher = b.keys();
    assert_eq!(watcher.version().unwrap(), 0);
    keys.insert(&row("key_b", "h2", 2)).unwrap();
    keys.insert(&row("key_a", "h1", 1)).unwrap();
    assert_eq!(watcher.version().unwrap(), 2);
    let ids: Vec<String> = keys.all().unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(ids, vec!["key_a", "key_b"]);
    assert!(keys.set_spec("key_a", r#"{"rpm":5}"#).unwrap());
    assert!(
        keys.set_secret("key_a", "h3", "sk-sy-Zzzz", at(3, 0, 0))
            .unwrap()
    );
    let got = keys.get("key_a").unwrap().unwrap();
    assert_eq!(
        (got.spec.as_str(), got.hash.as_str()),
        (r#"{"rpm":5}"#, "h3")
    );
    assert_eq!(got.rotated_at, Some(at(3, 0, 0)));
    assert_eq!(got.created_at, at(1, 9, 0));
    assert_eq!(watcher.version().unwrap(), 4);
    assert_eq!(keys.get("key_zz").unwrap(), None);
}

fn a_revoked_key_cannot_be_changed_or_revoked_again(b: &mut Backend) {
    let keys = b.keys();
    keys.insert(&row("key_a", "h1", 1)).unwrap();
    assert!(keys.revoke("key_a", at(2, 0, 0)).unwrap());
    let v = keys.version().unwrap();
    assert!(!keys.revoke("key_a", at(3, 0, 0)).unwrap());
    assert!(!keys.set_spec("key_a", "{}").unwrap());
    assert!(!keys.set_secret("key_a", "h9", "p", at(3, 0, 0)).unwrap());
    assert!(!keys.set_spec("key_missing", "{}").unwrap());
    assert_eq!(keys.version().unwrap(), v, "refused changes bump nothing");
    let got = keys.get("key_a").unwrap().unwrap();
    assert_eq!(
        (got.hash.as_str(), got.revoked_at),
        ("h1", Some(at(2, 0, 0)))
    );
}

fn a_duplicate_id_or_digest_is_refused(b: &mut Backend) {
    let keys = b.keys();
    keys.insert(&row("key_a", "h1", 1)).unwrap();
    assert!(keys.insert(&row("key_a", "h2", 1)).is_err());
    assert!(keys.insert(&row("key_b", "h1", 1)).is_err());
    assert_eq!(keys.all().unwrap().len(), 1);
    assert_eq!(keys.version().unwrap(), 1);
}

crate::conformance!(
    keys_read_back_oldest_first_and_every_change_bumps_the_version,
    a_revoked_key_cannot_be_changed_or_revoked_again,
    a_duplicate_id_or_digest_is_refused,
);
