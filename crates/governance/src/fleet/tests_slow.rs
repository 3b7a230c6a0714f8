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
async fn a_short_stall_costs_an_rpm_key_no_admission_and_the_late_slot_is_given_back() {
    let server = Private::start();
    let p = Prefix::new(&server.url());
    let a = p.fleet("a");
    assert!(a.beat(Utc::now()).await);
    let key = rpm_only(10);
    assert_eq!(admitted(&a, &key, 4).await, 4, "four through redis");
    // The call times out (100 ms) and the cautious local share is empty, so the request
    // waits for the probe instead of being refused: the stall ends, Redis admits it.
    server.pause(250);
    let first = a.admit(&key, Utc::now(), demand("0")).await;
    assert!(first.is_ok(), "{:?}", first.map(|_| ()));
    assert_eq!(a.status().mode, FleetMode::Shared);
    // The timed-out call ran when the pause ended and took a slot too: given back.
    assert!(eventually(|| a.status().late_refunds == 1).await);
    // 4 + 1 of 10: five left (four without the refund).
    assert_eq!(admitted(&a, &key, 6).await, 5);
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
