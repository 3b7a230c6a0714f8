//! Fleet tests against the real Redis on 127.0.0.1:6379, each under its own random prefix
//! (deleted when the test ends, pass or fail).

use super::*;
use crate::{Budget, Demand, Denied, Governor, KeyHandle, KeyInfo, KeySpec, Period, RateLimit};
use crate::{SpendError, SpendSource, hash_hex};
use chrono::{TimeDelta, TimeZone};
use std::str::FromStr;

pub(super) const SHARED_REDIS: &str = "redis://127.0.0.1:6379";

pub(super) fn usd_of(s: &str) -> Money {
    Money::from_str(s).unwrap()
}

/// Friday 2026-11-27 12:00 UTC.
pub(super) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

pub(super) struct NoSpend;

impl SpendSource for NoSpend {
    fn spent_since(&self, _: &str, _: DateTime<Utc>) -> Result<Money, SpendError> {
        Ok(Money::ZERO)
    }
}

/// Deletes every key under the prefix when dropped.
pub(super) struct Prefix {
    pub(super) url: String,
    pub(super) prefix: String,
}

impl Prefix {
    pub(super) fn new(url: &str) -> Self {
        let mut bytes = [0u8; 8];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Prefix {
            url: url.to_owned(),
            prefix: format!("switchyard:test:gov:{hex}:"),
        }
    }

    pub(super) fn fleet(&self, replica: &str) -> Fleet {
        self.fleet_with(replica, |_| {})
    }

    pub(super) fn fleet_with(&self, replica: &str, tweak: impl FnOnce(&mut FleetOptions)) -> Fleet {
        let mut opts = FleetOptions {
            prefix: self.prefix.clone(),
            replica_id: replica.to_owned(),
            // Only the tests' explicit beats run (the task's first tick aside).
            heartbeat: Duration::from_secs(3_600),
            lease: Duration::from_secs(1),
            ..FleetOptions::default()
        };
        tweak(&mut opts);
        Fleet::open(&self.url, opts).unwrap()
    }

    /// A field of one budget hash, read directly.
    pub(super) fn field(
        &self,
        key_id: &str,
        period: Period,
        now: DateTime<Utc>,
        field: &str,
    ) -> i64 {
        let key = format!(
            "{}k{{{key_id}}}:b:{period}:{}",
            self.prefix,
            period.start(now).timestamp_millis()
        );
        let mut conn = redis::Client::open(self.url.as_str())
            .unwrap()
            .get_connection()
            .unwrap();
        let v: Option<i64> = redis::cmd("HGET")
            .arg(key)
            .arg(field)
            .query(&mut conn)
            .unwrap();
        v.unwrap_or(0)
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let Ok(mut conn) = redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<u64> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

pub(super) fn handle(spec: KeySpec) -> Arc<KeyHandle> {
    let info = KeyInfo {
        id: "key_fleet".into(),
        prefix: "sk-sy-test".into(),
        spec,
        created_at: t0(),
        rotated_at: None,
        revoked_at: None,
    };
    let secret = "sk-sy-secret-of-key_fleet";
    let gov = Governor::new(vec![(hash_hex(secret), info)], &NoSpend, t0()).unwrap();
    gov.authenticate(secret, t0()).unwrap()
}

pub(super) fn day_budget(limit: &str) -> KeySpec {
    KeySpec {
        budgets: vec![Budget {
            period: Period::Day,
            limit_usd: usd_of(limit),
            hard: true,
        }],
        ..KeySpec::default()
    }
}

pub(super) fn demand(worst: &str) -> Demand {
    Demand {
        prompt_tokens: 10,
        worst_case_usd: usd_of(worst),
    }
}

/// Waits until the settlement task has written what the test expects.
pub(super) async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_never_together_overspend_a_hard_budget_under_concurrent_reserves() {
    let p = Prefix::new(SHARED_REDIS);
    let (a, b) = (p.fleet("a"), p.fleet("b"));
    let key = handle(day_budget("1.00"));
    let mut tasks = Vec::new();
    for n in 0..40 {
        let fleet = if n % 2 == 0 { a.clone() } else { b.clone() };
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            fleet.admit(&key, t0(), demand("0.30")).await
        }));
    }
    let mut held = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(adm) => held.push(adm.reservation),
            Err(Denied::Budget { .. }) => {}
            Err(other) => panic!("unexpected refusal: {other}"),
        }
    }
    // 3 × $0.30 fit under $1.00; a fourth would not, whichever replica asked.
    assert_eq!(held.len(), 3);
    assert_eq!(
        p.field("key_fleet", Period::Day, t0(), "reserved"),
        900_000_000
    );
    for r in held {
        r.settle(usd_of("0.25"), 100, t0());
    }
    let settled = eventually(|| {
        p.field("key_fleet", Period::Day, t0(), "spent") == 750_000_000
            && p.field("key_fleet", Period::Day, t0(), "reserved") == 0
    })
    .await;
    assert!(settled, "spent 0.75 and nothing left reserved");
    let next = a.admit(&key, t0(), demand("0.25")).await.unwrap();
    assert_eq!(next.remaining_budget_usd, Some(usd_of("0")));
    assert!(b.admit(&key, t0(), demand("0.01")).await.is_err());
}

#[tokio::test]
async fn a_lease_expires_and_releases_the_hold_of_a_replica_that_never_settled() {
    let p = Prefix::new(SHARED_REDIS);
    let (dead, alive) = (p.fleet("dead"), p.fleet("alive"));
    let key = handle(day_budget("1.00"));
    let held = dead.admit(&key, t0(), demand("0.60")).await.unwrap();
    // The replica dies with the reservation: nothing is ever settled or released.
    std::mem::forget(held.reservation);
    let soon = t0() + TimeDelta::milliseconds(500);
    let refused = alive.admit(&key, soon, demand("0.60")).await.unwrap_err();
    assert!(matches!(refused, Denied::Budget { reserved, .. } if reserved == usd_of("0.6")));
    let later = t0() + TimeDelta::milliseconds(1_500);
    let admitted = alive.admit(&key, later, demand("0.60")).await.unwrap();
    assert_eq!(admitted.remaining_budget_usd, Some(usd_of("0.4")));
}

#[tokio::test]
async fn a_settlement_after_its_lease_expired_still_counts_its_spend_once() {
    let p = Prefix::new(SHARED_REDIS);
    let fleet = p.fleet("slow");
    let key = handle(day_budget("1.00"));
    let held = fleet.admit(&key, t0(), demand("0.50")).await.unwrap();
    let later = t0() + TimeDelta::seconds(5);
    // Another admission expires the lease first.
    let other = fleet.admit(&key, later, demand("0.10")).await.unwrap();
    held.reservation.settle(usd_of("0.40"), 0, later);
    other.reservation.settle(usd_of("0.10"), 0, later);
    let done = eventually(|| {
        p.field("key_fleet", Period::Day, t0(), "spent") == 500_000_000
            && p.field("key_fleet", Period::Day, t0(), "reserved") == 0
    })
    .await;
    assert!(done, "both costs counted, no hold left behind");
}

#[tokio::test]
async fn a_shared_rpm_limit_holds_across_two_replicas() {
    let p = Prefix::new(SHARED_REDIS);
    let (a, b) = (p.fleet("a"), p.fleet("b"));
    let key = handle(KeySpec {
        rpm: Some(10),
        ..KeySpec::default()
    });
    let mut admitted = 0;
    let mut retry = None;
    for n in 0..30 {
        let fleet = if n % 2 == 0 { &a } else { &b };
        match fleet.admit(&key, t0(), demand("0")).await {
            Ok(adm) => {
                admitted += 1;
                assert_eq!(adm.remaining_requests, Some(10 - admitted));
            }
            Err(Denied::RateLimited {
                limit: RateLimit::Requests,
                retry_after,
                ..
            }) => retry = Some(retry_after),
            Err(other) => panic!("unexpected refusal: {other}"),
        }
    }
    assert_eq!(admitted, 10);
    // One request's interval (6 s) frees the next slot.
    assert_eq!(retry, Some(Duration::from_secs(6)));
    let later = t0() + TimeDelta::seconds(6);
    assert!(a.admit(&key, later, demand("0")).await.is_ok());
    assert!(b.admit(&key, later, demand("0")).await.is_err());
}

#[tokio::test]
async fn a_shared_tpm_window_counts_prompts_in_flight_and_settled_tokens() {
    let p = Prefix::new(SHARED_REDIS);
    let (a, b) = (p.fleet("a"), p.fleet("b"));
    let key = handle(KeySpec {
        tpm: Some(1_000),
        ..KeySpec::default()
    });
    let ask = |n| Demand {
        prompt_tokens: n,
        worst_case_usd: Money::ZERO,
    };
    let first = a.admit(&key, t0(), ask(400)).await.unwrap();
    assert_eq!(first.remaining_tokens, Some(600));
    let second = b.admit(&key, t0(), ask(400)).await.unwrap();
    assert!(matches!(
        a.admit(&key, t0(), ask(400)).await,
        Err(Denied::RateLimited {
            limit: RateLimit::Tokens,
            ..
        })
    ));
    assert!(matches!(
        b.admit(&key, t0(), ask(1_001)).await,
        Err(Denied::TooLarge { .. })
    ));
    first.reservation.settle(Money::ZERO, 900, t0());
    second.reservation.settle(Money::ZERO, 50, t0());
    tokio::time::sleep(Duration::from_millis(200)).await;
    // 950 settled in the last minute: 50 left; a minute later the window is empty again.
    let near = t0() + TimeDelta::seconds(1);
    assert!(a.admit(&key, near, ask(100)).await.is_err());
    let later = t0() + TimeDelta::seconds(62);
    let again = b.admit(&key, later, ask(100)).await.unwrap();
    assert_eq!(again.remaining_tokens, Some(900));
}

#[tokio::test]
async fn reconcile_raises_a_counter_below_the_ledger_and_reports_the_drift() {
    let p = Prefix::new(SHARED_REDIS);
    let fleet = p.fleet("a");
    let readings = [Reading {
        key_id: "key_fleet".into(),
        period: Period::Day,
        ledger_usd: usd_of("0.5"),
    }];
    let drift = fleet.reconcile(&readings, t0()).await.unwrap();
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0].drift_usd, usd_of("-0.5"));
    assert_eq!(
        p.field("key_fleet", Period::Day, t0(), "spent"),
        500_000_000
    );
    assert_eq!(fleet.status().drift, drift);
    // Once equal there is no drift, and the ledger never lowers the counter.
    assert!(fleet.reconcile(&readings, t0()).await.unwrap().is_empty());
    let lower = [Reading {
        ledger_usd: usd_of("0.2"),
        ..readings[0].clone()
    }];
    let ahead = fleet.reconcile(&lower, t0()).await.unwrap();
    assert_eq!(ahead[0].drift_usd, usd_of("0.3"));
    assert_eq!(
        p.field("key_fleet", Period::Day, t0(), "spent"),
        500_000_000
    );
}

#[tokio::test]
async fn reconciling_no_budgets_is_a_no_op_that_keeps_the_fleet_shared() {
    let p = Prefix::new(SHARED_REDIS);
    let fleet = p.fleet("a");
    assert_eq!(fleet.reconcile(&[], t0()).await, Some(Vec::new()));
    assert_eq!(fleet.status().mode, FleetMode::Shared);
    assert_eq!(fleet.status().last_reconcile, Some(t0()));
}

#[tokio::test]
async fn a_key_change_announced_by_one_replica_reaches_another_within_a_second() {
    let p = Prefix::new(SHARED_REDIS);
    let (a, b) = (p.fleet("a"), p.fleet("b"));
    let mut changes = b.key_changes();
    // Let b's listener subscribe.
    tokio::time::sleep(Duration::from_millis(300)).await;
    changes.borrow_and_update();
    assert!(a.announce_key_change().await);
    let seen = tokio::time::timeout(Duration::from_secs(1), changes.changed()).await;
    assert!(matches!(seen, Ok(Ok(()))), "b saw the change by pub/sub");
    assert_eq!(*changes.borrow(), *a.key_changes().borrow());
}

#[tokio::test]
async fn heartbeats_count_live_replicas_and_a_leaver_is_not_counted() {
    let p = Prefix::new(SHARED_REDIS);
    let (a, b, c) = (p.fleet("a"), p.fleet("b"), p.fleet("c"));
    for f in [&a, &b, &c] {
        assert!(f.beat(Utc::now()).await);
    }
    assert!(a.beat(Utc::now()).await);
    assert_eq!(a.status().replicas, 3);
    c.leave().await;
    assert!(a.beat(Utc::now()).await);
    assert_eq!(a.status().replicas, 2);
    assert_eq!(a.status().mode, FleetMode::Shared);
}

#[test]
fn nano_dollars_round_holds_and_charges_up_and_back() {
    assert_eq!(nano(usd_of("0.000000001")), 1);
    assert_eq!(nano(usd_of("0.0000000001")), 1);
    assert_eq!(nano(usd_of("1.25")), 1_250_000_000);
    assert_eq!(usd(1_250_000_000), usd_of("1.25"));
}

#[tokio::test]
async fn a_breaker_announced_by_one_replica_is_listed_open_for_the_other_until_it_closes() {
    let p = Prefix::new(SHARED_REDIS);
    let (a, b) = (p.fleet("a"), p.fleet("b"));
    let now = Utc::now();
    assert!(
        a.announce_breaker("sim/gpt-4o-mini", now + TimeDelta::seconds(15))
            .await
    );
    let open = b.open_breakers(now).await.unwrap();
    assert_eq!(
        open,
        [("sim/gpt-4o-mini".to_owned(), Duration::from_secs(15))]
    );
    let later = now + TimeDelta::seconds(16);
    assert!(b.open_breakers(later).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_settlement_rides_on_the_next_admission_and_is_sent_alone_when_none_comes() {
    let p = Prefix::new(SHARED_REDIS);
    // The settlement task waits an hour: only an admission can carry the settlement.
    let carried = p.fleet_with("a", |o| o.settle_delay = Duration::from_secs(3_600));
    let key = handle(day_budget("10"));
    let first = carried.admit(&key, t0(), demand("1")).await.unwrap();
    first.reservation.settle(usd_of("0.25"), 0, t0());
    assert_eq!(
        p.field("key_fleet", Period::Day, t0(), "reserved"),
        1_000_000_000
    );
    // The next admission's round trip settles first, so it already sees $0.25 spent, not
    // the $1 hold: $10 - $0.25 - its own $1 hold.
    let second = carried.admit(&key, t0(), demand("1")).await.unwrap();
    assert_eq!(second.remaining_budget_usd, Some(usd_of("8.75")));
    drop(second);
    // Without a next admission the task sends it after `settle_delay` (20 ms by default).
    let alone = p.fleet("b");
    let third = alone.admit(&key, t0(), demand("1")).await.unwrap();
    third.reservation.settle(usd_of("0.5"), 0, t0());
    assert!(eventually(|| p.field("key_fleet", Period::Day, t0(), "spent") == 750_000_000).await);
    assert_eq!(
        p.field("key_fleet", Period::Day, t0(), "reserved"),
        1_000_000_000
    );
}
