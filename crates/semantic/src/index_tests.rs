//! Index behaviour: nearest first, isolation by scope and by context hash, expiry, bounds.

use super::*;
use chrono::TimeDelta;

fn key(n: u8) -> Key {
    Key([n; 32])
}

fn ctx(n: u8) -> ContextHash {
    ContextHash([n; 32])
}

fn entry(key: Key, expires: DateTime<Utc>) -> NewEntry {
    NewEntry {
        key,
        facts: Facts::default(),
        expires,
    }
}

fn unit(angle: f32) -> Vec<f32> {
    vec![angle.cos(), angle.sin(), 0.0, 0.0]
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
}

fn index(max_entries: usize) -> Index {
    Index::new(
        4,
        Precision::F32,
        Limits {
            max_entries,
            max_bytes: 1 << 30,
        },
    )
}

fn later(mins: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(mins)
}

fn keys(n: &[Neighbour<'_>]) -> Vec<Key> {
    n.iter().map(|n| n.meta.key).collect()
}

#[test]
fn nearest_returns_the_closest_entries_first() {
    for precision in [Precision::F32, Precision::I8] {
        let mut ix = Index::new(
            4,
            precision,
            Limits {
                max_entries: 10,
                max_bytes: 1 << 20,
            },
        );
        let part = (Scope::Global, ctx(1));
        for (n, angle) in [(1, 0.9), (2, 0.1), (3, 0.5)] {
            assert!(ix.insert(part.clone(), &unit(angle), entry(key(n), later(10))));
        }
        let got = ix.nearest(&part, &unit(0.0), 2, t0());
        assert_eq!(keys(&got), [key(2), key(3)], "{precision:?}");
        assert!(got[0].similarity > 0.99 && got[0].similarity >= got[1].similarity);
    }
}

#[test]
fn scopes_never_see_each_others_entries() {
    let mut ix = index(10);
    let team_a = (Scope::Team("a".into()), ctx(1));
    ix.insert(team_a.clone(), &unit(0.0), entry(key(1), later(10)));
    for other in [
        Scope::Team("b".into()),
        Scope::Global,
        Scope::Key("a".into()),
    ] {
        assert!(ix.nearest(&(other, ctx(1)), &unit(0.0), 4, t0()).is_empty());
    }
    assert_eq!(keys(&ix.nearest(&team_a, &unit(0.0), 4, t0())), [key(1)]);
}

#[test]
fn a_different_context_hash_is_a_different_partition() {
    let mut ix = index(10);
    ix.insert(
        (Scope::Global, ctx(1)),
        &unit(0.0),
        entry(key(1), later(10)),
    );
    assert!(
        ix.nearest(&(Scope::Global, ctx(2)), &unit(0.0), 4, t0())
            .is_empty()
    );
    assert_eq!(ix.state().partitions, 1);
}

#[test]
fn expired_entries_are_never_returned_and_purge_frees_them() {
    let mut ix = index(10);
    let part = (Scope::Global, ctx(1));
    ix.insert(part.clone(), &unit(0.0), entry(key(1), later(5)));
    ix.insert(part.clone(), &unit(0.2), entry(key(2), later(60)));
    assert_eq!(
        keys(&ix.nearest(&part, &unit(0.0), 4, later(4))),
        [key(1), key(2)]
    );
    assert_eq!(keys(&ix.nearest(&part, &unit(0.0), 4, later(5))), [key(2)]);
    assert_eq!(ix.purge_expired(later(5)), 1);
    assert_eq!(ix.state().entries, 1);
}

#[test]
fn the_entry_bound_evicts_oldest_first() {
    let mut ix = index(2);
    let part = (Scope::Global, ctx(1));
    for n in 1..=3 {
        ix.insert(
            part.clone(),
            &unit(f32::from(n) / 10.0),
            entry(key(n), later(10)),
        );
    }
    let state = ix.state();
    assert_eq!((state.entries, state.evictions), (2, 1));
    let got = keys(&ix.nearest(&part, &unit(0.0), 4, t0()));
    assert!(!got.contains(&key(1)) && got.contains(&key(2)) && got.contains(&key(3)));
}

#[test]
fn the_byte_bound_holds_across_partitions() {
    let probe = index(1);
    let per_entry = probe.entry_bytes(&Facts::default());
    let mut ix = Index::new(
        4,
        Precision::F32,
        Limits {
            max_entries: 100,
            max_bytes: per_entry * 3,
        },
    );
    for n in 0..10u8 {
        ix.insert(
            (Scope::Key(n.to_string()), ctx(n)),
            &unit(0.0),
            entry(key(n), later(10)),
        );
    }
    let state = ix.state();
    assert_eq!(state.entries, 3);
    assert!(state.bytes <= per_entry * 3);
    assert_eq!(state.evictions, 7);
    assert!(!ix.insert(
        (Scope::Global, ctx(0)),
        &[1.0, 0.0],
        entry(key(99), later(10))
    ));
}

#[test]
fn reinserting_a_key_replaces_its_entry() {
    let mut ix = index(10);
    let part = (Scope::Global, ctx(1));
    ix.insert(part.clone(), &unit(1.5), entry(key(1), later(10)));
    ix.insert(part.clone(), &unit(0.0), entry(key(1), later(10)));
    let got = ix.nearest(&part, &unit(0.0), 4, t0());
    assert_eq!(keys(&got), [key(1)]);
    assert!(got[0].similarity > 0.99);
    assert!(ix.remove(&part, &key(1)));
    assert_eq!(ix.state(), IndexState::default());
}

#[test]
fn freed_slots_are_reused_and_stale_queue_items_do_not_evict_live_entries() {
    let mut ix = index(3);
    let part = (Scope::Global, ctx(1));
    for round in 0..50u8 {
        ix.insert(part.clone(), &unit(0.1), entry(key(round % 2), later(10)));
    }
    assert_eq!(ix.state().entries, 2);
    assert_eq!(ix.state().evictions, 0);
}
