//! A Redis that is only slow (`CLIENT PAUSE` on a private `redis-server`): the local `rpm`
//! share of a suspect link is cut from a fresh report, and the slot a timed-out admission of
//! an `rpm`-only key took in Redis is given back when its late reply comes.

use super::tests::{Prefix, demand, eventually, handle};
use super::tests_fault::{Private, back};
use super::*;
use crate::{Denied, KeySpec};

fn rpm_only(rpm: u32) -> Arc<crate::KeyHandle> {
    handle(KeySpec {
        rpm: Some(rpm),
        ..KeySpec::default()
    })
}

/// How many of `n` admissions pass through Redis now.
async fn admitted(fleet: &Fleet, key: &crate::KeyHandle, n: usize) -> usize {
    let mut ok = 0;
    for _ in 0..n {
        if fleet.admit(key, Utc::now(), demand("0")).await.is_ok() {
            ok += 1;
        }
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_stall_costs_an_rpm_key_no_admission_and_counts_each_request_once() {
    let server = Private::start();
    let p = Prefix::new(&server.url());
    let a = p.fleet("a");
    assert!(a.beat(Utc::now()).await);
    let key = rpm_only(10);
    assert_eq!(admitted(&a, &key, 4).await, 4, "four through redis");
    // The call times out (100 ms) and the cautious local share is empty, so the request
    // waits for its own call's reply instead of being refused: Redis admits it when the
    // stall ends, once. The second request comes while the link is suspect: refused by the
    // share, it waits for the probe and then asks Redis.
    server.pause(250);
    let late = async { a.admit(&key, Utc::now(), demand("0")).await.map(|_| ()) };
    let suspect = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(a.status().mode, FleetMode::Suspect);
        a.admit(&key, Utc::now(), demand("0")).await.map(|_| ())
    };
    let (late, suspect) = tokio::join!(late, suspect);
    assert!(late.is_ok() && suspect.is_ok(), "{late:?} {suspect:?}");
    assert_eq!(a.status().mode, FleetMode::Shared);
    assert_eq!(a.status().late_refunds, 0, "no slot taken twice");
    // 4 + 2 of 10: four left.
    assert_eq!(admitted(&a, &key, 6).await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_stall_refuses_what_the_empty_share_cannot_take_and_gives_its_slot_back() {
    let server = Private::start();
    let p = Prefix::new(&server.url());
    let a = p.fleet("a");
    assert!(a.beat(Utc::now()).await);
    let key = rpm_only(10);
    assert_eq!(admitted(&a, &key, 4).await, 4);
    // Still suspect after the probe's bound (timeout_ms + connect_timeout_ms): refused by
    // the share, which starts empty (the calls that timed out may be counting in Redis).
    server.pause(700);
    let refused = a.admit(&key, Utc::now(), demand("0")).await.unwrap_err();
    assert!(matches!(refused, Denied::RateLimited { .. }), "{refused}");
    assert_eq!(a.status().mode, FleetMode::Suspect);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(back(&a).await, "redis answers after the pause");
    assert!(eventually(|| a.status().late_refunds == 1).await);
    assert_eq!(
        admitted(&a, &key, 7).await,
        6,
        "the refused request took no slot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_budget_request_caught_by_a_short_stall_is_judged_by_its_own_late_reply() {
    let server = Private::start();
    let p = Prefix::new(&server.url());
    let a = p.fleet("a");
    assert!(a.beat(Utc::now()).await);
    let key = handle(super::tests::day_budget("10"));
    let now = Utc::now();
    let first = a.admit(&key, now, demand("1")).await.unwrap();
    first.reservation.settle(super::tests::usd_of("1"), 0, now);
    // The call times out, but Redis answers within the probe's bound: that reply admits the
    // request (one hold in Redis, no local share, no refusal).
    server.pause(250);
    let adm = a
        .admit(&key, now, demand("1"))
        .await
        .expect("admitted by redis");
    assert_eq!(a.status().unavailable_refusals, 0);
    assert_eq!(a.status().fallback_admissions, 0);
    assert_eq!(
        p.field("key_fleet", crate::Period::Day, now, "reserved"),
        1_000_000_000
    );
    adm.reservation.settle(super::tests::usd_of("1"), 0, now);
    assert!(eventually(|| p.field("key_fleet", crate::Period::Day, now, "reserved") == 0).await);
    assert_eq!(
        p.field("key_fleet", crate::Period::Day, now, "spent"),
        2_000_000_000
    );
}
