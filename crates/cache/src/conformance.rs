//! The conformance suite every [`Store`] must pass (in-process and shared stores alike).
//!
//! Each check takes a fresh, empty store and panics with a message naming the broken promise.
//! A backend's tests call [`run_all`] (or single checks) on a store isolated for the test (its
//! own key prefix or instance), inside a multi-threaded tokio runtime. Expiry is checked with
//! real time and sub-second TTLs, so a shared store is tested the way it runs.

#![expect(
    clippy::expect_used,
    reason = "a conformance check is a test: a failed store operation must panic with its message"
)]

use crate::{Key, Store};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

fn key(n: u32) -> Key {
    let mut k = [0u8; 32];
    k[..4].copy_from_slice(&n.to_be_bytes());
    k[31] = 0xa5;
    Key(k)
}

const MINUTE: Duration = Duration::from_secs(60);

/// Runs every check, each on a fresh store from `fresh`.
pub async fn run_all<S, F>(fresh: F)
where
    S: Store,
    F: Fn() -> S,
{
    absent_keys_miss(&fresh()).await;
    a_stored_value_comes_back_byte_for_byte(&fresh()).await;
    a_put_replaces_the_previous_value(&fresh()).await;
    a_removed_key_misses(&fresh()).await;
    a_zero_ttl_stores_nothing(&fresh()).await;
    an_expired_value_misses(&fresh()).await;
    concurrent_writers_and_readers_see_whole_values(Arc::new(fresh())).await;
}

pub async fn absent_keys_miss(store: &dyn Store) {
    let got = store.get(&key(1)).await.expect("get on an empty store");
    assert_eq!(got, None, "an empty store must miss");
}

pub async fn a_stored_value_comes_back_byte_for_byte(store: &dyn Store) {
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    store
        .put(&key(1), Bytes::from(binary.clone()), MINUTE)
        .await
        .expect("put");
    store
        .put(&key(2), Bytes::from_static(b"{}"), MINUTE)
        .await
        .expect("put");
    let got = store.get(&key(1)).await.expect("get");
    assert_eq!(
        got.as_deref(),
        Some(&binary[..]),
        "binary value must round-trip"
    );
    let other = store.get(&key(2)).await.expect("get");
    assert_eq!(
        other.as_deref(),
        Some(&b"{}"[..]),
        "keys must not share values"
    );
}

pub async fn a_put_replaces_the_previous_value(store: &dyn Store) {
    store
        .put(&key(1), Bytes::from_static(b"first"), MINUTE)
        .await
        .expect("put");
    store
        .put(&key(1), Bytes::from_static(b"second"), MINUTE)
        .await
        .expect("put");
    let got = store.get(&key(1)).await.expect("get");
    assert_eq!(got.as_deref(), Some(&b"second"[..]), "a put must replace");
}

pub async fn a_removed_key_misses(store: &dyn Store) {
    store
        .put(&key(1), Bytes::from_static(b"v"), MINUTE)
        .await
        .expect("put");
    store.remove(&key(1)).await.expect("remove");
    store.remove(&key(9)).await.expect("removing an absent key");
    assert_eq!(store.get(&key(1)).await.expect("get"), None, "removed");
}

pub async fn a_zero_ttl_stores_nothing(store: &dyn Store) {
    store
        .put(&key(1), Bytes::from_static(b"v"), MINUTE)
        .await
        .expect("put");
    store
        .put(&key(1), Bytes::from_static(b"w"), Duration::ZERO)
        .await
        .expect("put with a zero TTL");
    assert_eq!(
        store.get(&key(1)).await.expect("get"),
        None,
        "a zero TTL must store nothing (and drop the old value)"
    );
}

pub async fn an_expired_value_misses(store: &dyn Store) {
    store
        .put(
            &key(1),
            Bytes::from_static(b"short"),
            Duration::from_millis(200),
        )
        .await
        .expect("put");
    store
        .put(&key(2), Bytes::from_static(b"long"), MINUTE)
        .await
        .expect("put");
    assert!(store.get(&key(1)).await.expect("get").is_some(), "fresh");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(store.get(&key(1)).await.expect("get"), None, "expired");
    assert!(
        store.get(&key(2)).await.expect("get").is_some(),
        "not expired"
    );
}

pub async fn concurrent_writers_and_readers_see_whole_values(store: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for t in 0..16u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50u32 {
                let k = key(i % 8);
                let value = vec![t; 1_000 + i as usize];
                store
                    .put(&k, Bytes::from(value), MINUTE)
                    .await
                    .expect("put");
                if let Some(got) = store.get(&k).await.expect("get") {
                    let first = got[0];
                    assert!(
                        got.iter().all(|b| *b == first),
                        "a reader must never see a torn value"
                    );
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("worker task");
    }
}
