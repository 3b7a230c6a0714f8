use super::*;
use crate::{Budget, Governor, LedgerSpend, Period};
use chrono::TimeZone;
use std::path::PathBuf;

/// A fresh directory per test (no tempfile crate in the workspace).
fn temp_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "switchyard-governance-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("ledger.db")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap()
}

fn spec() -> KeySpec {
    KeySpec {
        name: Some("ci".into()),
        team: Some("platform".into()),
        budgets: vec![Budget {
            period: Period::Day,
            limit_usd: "5".parse().unwrap(),
            hard: true,
        }],
        rpm: Some(10),
        ..KeySpec::default()
    }
}

fn governor(store: &KeyStore) -> Governor {
    let spend = LedgerSpend::new(Box::new(
        switchyard_ledger::SqliteStore::in_memory().unwrap(),
    ));
    Governor::new(store.active().unwrap(), &spend, now()).unwrap()
}

#[test]
fn created_key_authenticates_and_its_info_has_no_secret() {
    let store = KeyStore::open(&temp_db("create")).unwrap();
    let (info, secret) = store.create(spec(), now()).unwrap();
    assert!(secret.starts_with("sk-sy-"));
    assert_eq!(info.prefix, secret[..10]);
    assert_eq!(info.spec.team.as_deref(), Some("platform"));
    let handle = governor(&store).authenticate(&secret, now()).unwrap();
    assert_eq!(handle.id(), info.id);

    let listed = store.list().unwrap();
    assert_eq!(listed, vec![info.clone()]);
    let shown = format!(
        "{listed:?} {} {handle:?}",
        serde_json::to_string(&listed).unwrap()
    );
    let hash = crate::hash_hex(&secret);
    assert!(!shown.contains(&secret[10..]), "secret leaked: {shown}");
    assert!(!shown.contains(&hash), "hash leaked: {shown}");
    // The JSON view flattens the settings next to the identity.
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["team"], "platform");
    assert_eq!(json["budgets"][0]["period"], "day");
}

#[test]
fn the_database_file_holds_the_hash_not_the_secret() {
    let path = temp_db("bytes");
    let secret = {
        let store = KeyStore::open(&path).unwrap();
        store.create(spec(), now()).unwrap().1
    };
    // The store is closed; whatever is not folded into the file yet is in its WAL.
    let mut bytes = std::fs::read(&path).unwrap();
    let wal = path.with_extension("db-wal");
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(contains(crate::hash_hex(&secret).as_bytes()));
    assert!(!contains(secret.as_bytes()));
    assert!(!contains(&secret.as_bytes()[10..]));
}

#[test]
fn rotation_invalidates_the_old_secret_and_keeps_the_id() {
    let store = KeyStore::open(&temp_db("rotate")).unwrap();
    let (info, old) = store.create(spec(), now()).unwrap();
    let later = now() + chrono::Duration::hours(1);
    let (rotated, new) = store.rotate(&info.id, later).unwrap();
    assert_ne!(old, new);
    assert_eq!(rotated.id, info.id);
    assert_eq!(rotated.rotated_at, Some(later));
    assert_eq!(rotated.prefix, new[..10]);
    let gov = governor(&store);
    assert_eq!(
        gov.authenticate(&old, later).unwrap_err(),
        crate::AuthError::Invalid
    );
    assert_eq!(gov.authenticate(&new, later).unwrap().id(), info.id);
}

#[test]
fn revoked_keys_leave_the_active_set_and_cannot_be_changed() {
    let store = KeyStore::open(&temp_db("revoke")).unwrap();
    let (a, secret_a) = store.create(spec(), now()).unwrap();
    let (b, _) = store.create(KeySpec::default(), now()).unwrap();
    let revoked = store.revoke(&a.id, now()).unwrap();
    assert_eq!(revoked.revoked_at, Some(now()));
    let active: Vec<String> = store
        .active()
        .unwrap()
        .into_iter()
        .map(|(_, i)| i.id)
        .collect();
    assert_eq!(active, vec![b.id.clone()]);
    assert_eq!(store.list().unwrap().len(), 2);
    assert!(matches!(
        store.rotate(&a.id, now()),
        Err(StoreError::Revoked { .. })
    ));
    assert!(matches!(
        store.update(&a.id, spec()),
        Err(StoreError::Revoked { .. })
    ));
    assert_eq!(
        governor(&store).authenticate(&secret_a, now()).unwrap_err(),
        crate::AuthError::Invalid
    );
    // A governor handed the revoked key anyway says so.
    let mut all = store.active().unwrap();
    let hash = crate::hash_hex(&secret_a);
    all.push((hash, store.get(&a.id).unwrap()));
    let spend = LedgerSpend::new(Box::new(
        switchyard_ledger::SqliteStore::in_memory().unwrap(),
    ));
    let gov = Governor::new(all, &spend, now()).unwrap();
    assert_eq!(
        gov.authenticate(&secret_a, now()).unwrap_err(),
        crate::AuthError::Revoked
    );
}

#[test]
fn every_mutation_bumps_the_version_seen_by_another_connection() {
    let path = temp_db("version");
    let writer = KeyStore::open(&path).unwrap();
    let reader = KeyStore::open(&path).unwrap();
    assert_eq!(reader.version().unwrap(), 0);
    let (info, _) = writer.create(spec(), now()).unwrap();
    assert_eq!(reader.version().unwrap(), 1);
    writer.update(&info.id, KeySpec::default()).unwrap();
    assert_eq!(reader.version().unwrap(), 2);
    writer.rotate(&info.id, now()).unwrap();
    assert_eq!(reader.version().unwrap(), 3);
    writer.revoke(&info.id, now()).unwrap();
    assert_eq!(reader.version().unwrap(), 4);
    // Reads and no-op revocations do not.
    writer.list().unwrap();
    writer.revoke(&info.id, now()).unwrap();
    assert_eq!(reader.version().unwrap(), 4);
}

#[test]
fn keys_persist_across_reopen() {
    let path = temp_db("reopen");
    let (info, secret) = {
        let store = KeyStore::open(&path).unwrap();
        let created = store.create(spec(), now()).unwrap();
        store
            .update(
                &created.0.id,
                KeySpec {
                    rpm: Some(99),
                    ..spec()
                },
            )
            .unwrap();
        created
    };
    let store = KeyStore::open(&path).unwrap();
    let got = store.get(&info.id).unwrap();
    assert_eq!(got.spec.rpm, Some(99));
    assert_eq!(got.created_at, now());
    assert_eq!(store.version().unwrap(), 2);
    assert!(governor(&store).authenticate(&secret, now()).is_ok());
}

#[test]
fn invalid_settings_and_unknown_ids_are_refused_without_a_write() {
    let store = KeyStore::open(&temp_db("invalid")).unwrap();
    let bad = KeySpec {
        rpm: Some(0),
        ..spec()
    };
    assert!(matches!(
        store.create(bad, now()),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.get("key_000000000000"),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.revoke("key_000000000000", now()),
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(store.version().unwrap(), 0);
    assert!(store.list().unwrap().is_empty());
}

#[test]
fn the_keys_share_the_ledger_file_with_its_records() {
    use switchyard_ledger::{RecordSink, Store};
    let path = temp_db("beside");
    let store = KeyStore::open(&path).unwrap();
    store.create(spec(), now()).unwrap();
    let ledger = switchyard_ledger::SqliteStore::open(&path).unwrap();
    assert_eq!(ledger.count().unwrap(), 0);
    let mut writer = switchyard_ledger::SqliteStore::open(&path).unwrap();
    assert_eq!(writer.append(&[]).unwrap(), 0);
    assert_eq!(KeyStore::open(&path).unwrap().list().unwrap().len(), 1);
}
