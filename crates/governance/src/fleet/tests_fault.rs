//! Fault tests: a private `redis-server` on a free port that the test stops and restarts, so
//! the shared Redis stays up.

use super::tests::{Prefix, day_budget, demand, eventually, handle, t0, usd_of};
use super::*;
use crate::{Demand, Denied, KeySpec, Period};
use std::process::{Child, Command, Stdio};

/// A `redis-server` of the test's own, killed when dropped.
pub(super) struct Private {
    port: u16,
    child: Option<Child>,
}

impl Private {
    pub(super) fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Private { port, child: None };
        server.restart();
        server
    }

    pub(super) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (empty: no persistence) and waits until it answers.
    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..200 {
            if let Ok(mut c) = client.get_connection() {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "the private redis-server did not start on port {}",
            self.port
        );
    }

    /// Every client's commands wait `ms` milliseconds (Redis slow for everyone).
    pub(super) fn pause(&self, ms: u64) {
        let mut c = redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap();
        redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(ms)
            .arg("ALL")
            .exec(&mut c)
            .unwrap();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_means_a_local_share_without_errors_and_counters_reconcile_when_it_returns() {
    let mut server = Private::start();
    let p = Prefix::new(&server.url());
    // Both beat every 100 ms on their own (so both stay live), as well as when told to.
    let a = p.fleet_with("a", |o| o.heartbeat = Duration::from_millis(100));
    let b = p.fleet_with("b", |o| o.heartbeat = Duration::from_millis(100));
    assert!(a.beat(Utc::now()).await && b.beat(Utc::now()).await);
    assert!(a.beat(Utc::now()).await);
    let key = handle(day_budget("10"));
    // $2 spent through Redis; the second admission tells `a` what the fleet has used.
    let first = a.admit(&key, t0(), demand("1")).await.unwrap();
    first.reservation.settle(usd_of("1"), 0, t0());
    assert!(eventually(|| p.field("key_fleet", Period::Day, t0(), "spent") == 1_000_000_000).await);
    let second = a.admit(&key, t0(), demand("1")).await.unwrap();
    second.reservation.settle(usd_of("1"), 0, t0());
    assert!(eventually(|| p.field("key_fleet", Period::Day, t0(), "spent") == 2_000_000_000).await);

    server.stop();
    // Share: ($10 - $2 used) / 2 live replicas = $4, so four $1 requests and no error.
    for _ in 0..4 {
        let adm = a
            .admit(&key, t0(), demand("1"))
            .await
            .expect("local share admits");
        adm.reservation.settle(usd_of("1"), 0, t0());
    }
    assert!(matches!(
        a.admit(&key, t0(), demand("1")).await,
        Err(Denied::Budget { .. })
    ));
    // The failed call made the link suspect; a heartbeat that fails too confirms the outage.
    assert!(!a.beat(Utc::now()).await);
    let status = a.status();
    assert_eq!(status.mode, FleetMode::Fallback);
    assert_eq!(status.fallback_admissions, 4);
    assert!(status.last_error.is_some());

    // Back, but empty (no persistence): the outage's spend is added, the ledger restores the rest.
    server.restart();
    // The first beat may find the dead connection (and start a new one); one beat per
    // heartbeat, as the task does, until Redis answers.
    let mut back = false;
    for _ in 0..20 {
        back = a.beat(Utc::now()).await;
        if back {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(back, "redis answered a heartbeat after its restart");
    assert_eq!(a.status().mode, FleetMode::Shared);
    // Three settlements as deferred spend, added before the link came up; the first one's
    // (its admission failed, so it went to Redis under its reservation) right after.
    assert!(eventually(|| p.field("key_fleet", Period::Day, t0(), "spent") == 4_000_000_000).await);
    let ledger = [Reading {
        key_id: "key_fleet".into(),
        period: Period::Day,
        ledger_usd: usd_of("6"),
    }];
    // Right after an outage the others may still be adding their local spend: no reconcile
    // for three heartbeats (100 ms here).
    assert_eq!(a.reconcile(&ledger, t0()).await, None);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let drift = a.reconcile(&ledger, t0()).await.unwrap();
    assert_eq!(drift[0].drift_usd, usd_of("-2"));
    assert_eq!(
        p.field("key_fleet", Period::Day, t0(), "spent"),
        6_000_000_000
    );
    let after = a.admit(&key, t0(), demand("1")).await.unwrap();
    assert_eq!(after.remaining_budget_usd, Some(usd_of("3")));
}

#[tokio::test]
async fn fail_closed_refuses_while_redis_is_unreachable_and_says_so() {
    let mut server = Private::start();
    let p = Prefix::new(&server.url());
    let fleet = p.fleet_with("closed", |o| o.fail_closed = true);
    let key = handle(day_budget("10"));
    assert!(fleet.admit(&key, t0(), demand("1")).await.is_ok());
    server.stop();
    let refused = fleet.admit(&key, t0(), demand("1")).await.unwrap_err();
    assert!(matches!(refused, Denied::Unavailable { .. }));
    assert!(refused.to_string().contains("fail_closed"));
    let status = fleet.status();
    assert_eq!(status.mode, FleetMode::Refusing);
    assert_eq!(status.unavailable_refusals, 1);
}

#[tokio::test]
async fn a_password_in_the_url_never_appears_in_errors_or_status() {
    let url = "redis://user:hunter2-secret@127.0.0.1:1/0";
    let p = Prefix::new(url);
    let fleet = p.fleet("a");
    let key = handle(day_budget("10"));
    assert!(fleet.admit(&key, t0(), demand("1")).await.is_ok());
    let status = serde_json::to_string(&fleet.status()).unwrap();
    assert!(status.contains("fallback"), "{status}");
    assert!(!status.contains("hunter2"), "{status}");
    let err = Fleet::open("rediss://user:hunter2-secret@h:1", FleetOptions::default()).unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

/// Waits until a beat reaches Redis again.
pub(super) async fn back(fleet: &Fleet) -> bool {
    for _ in 0..20 {
        if fleet.beat(Utc::now()).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_hands_out_what_was_left_of_the_rpm_minute_not_a_second_minute() {
    let mut server = Private::start();
    let p = Prefix::new(&server.url());
    let (a, b) = (p.fleet("a"), p.fleet("b"));
    assert!(a.beat(Utc::now()).await && b.beat(Utc::now()).await);
    assert!(a.beat(Utc::now()).await);
    let key = handle(KeySpec {
        rpm: Some(10),
        ..KeySpec::default()
    });
    let now = Utc::now();
    let mut admitted = 0;
    // Six through Redis: four left in the fleet's minute.
    for _ in 0..6 {
        drop(a.admit(&key, now, demand("0")).await.unwrap());
        admitted += 1;
    }
    server.stop();
    // The share is cut from what Redis last said was left (4 / 2 replicas = 2 requests),
    // not from a full bucket (10 / 2 = 5).
    let mut local = 0;
    for _ in 0..5 {
        if let Ok(adm) = a.admit(&key, now, demand("0")).await {
            drop(adm);
            local += 1;
        }
    }
    assert_eq!(local, 2, "a's share of the four left");
    assert_eq!(a.status().mode, FleetMode::Fallback);
    admitted += local;
    server.restart();
    assert!(back(&a).await, "redis answers after its restart");
    assert!(back(&b).await, "b reconnects too");
    // Redis came back empty; it was told of the two local admissions before it was used.
    let mut after = 0;
    for r in [&a, &b, &a, &b, &a, &b, &a, &b, &a] {
        if r.admit(&key, Utc::now(), demand("0")).await.is_ok() {
            after += 1;
        }
    }
    // (A request's interval is 6 s; the test takes about one, so nothing refilled.)
    assert_eq!(
        after, 8,
        "an empty Redis knows of the two ({admitted} before)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_is_not_a_second_authority_over_a_hard_budget_or_an_rpm_minute() {
    let server = Private::start();
    let p = Prefix::new(&server.url());
    let a = p.fleet("a");
    assert!(a.beat(Utc::now()).await);
    let budgeted = handle(day_budget("10"));
    let now = Utc::now();
    for _ in 0..3 {
        let adm = a.admit(&budgeted, now, demand("1")).await.unwrap();
        adm.reservation.settle(usd_of("1"), 0, now);
    }
    // Redis stalls longer than the 100 ms timeout. The calls that time out may still hold
    // budget in Redis when it resumes, so a hard budget is not judged locally meanwhile: the
    // request is refused as unavailable (retry), and what Redis held for it is released.
    server.pause(600);
    let refused = a.admit(&budgeted, now, demand("1")).await.unwrap_err();
    assert!(matches!(refused, Denied::Unavailable { .. }), "{refused}");
    assert!(refused.to_string().contains("hard budget"), "{refused}");
    assert_eq!(a.status().mode, FleetMode::Suspect);
    // A probe that only times out does not confirm an outage (three heartbeats would).
    assert!(!a.beat(Utc::now()).await);
    assert_eq!(a.status().mode, FleetMode::Suspect);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(back(&a).await, "redis answers after the pause");
    assert!(eventually(|| p.field("key_fleet", Period::Day, now, "reserved") == 0).await);
    assert_eq!(
        p.field("key_fleet", Period::Day, now, "spent"),
        3_000_000_000
    );
    assert_eq!(a.status().unavailable_refusals, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_settled_under_a_local_share_reach_the_shared_tpm_window_when_redis_returns() {
    let mut server = Private::start();
    let p = Prefix::new(&server.url());
    let a = p.fleet("a");
    assert!(a.beat(Utc::now()).await);
    let key = handle(KeySpec {
        tpm: Some(1_000),
        ..KeySpec::default()
    });
    drop(a.admit(&key, Utc::now(), demand("0")).await.unwrap());
    server.stop();
    // 800 tokens used under the local share (1,000 / 1 live replica).
    for _ in 0..2 {
        let adm = a
            .admit(&key, Utc::now(), demand("0"))
            .await
            .expect("local share admits");
        adm.reservation.settle(Money::ZERO, 400, Utc::now());
    }
    assert!(!a.beat(Utc::now()).await);
    server.restart();
    assert!(back(&a).await, "redis answers after its restart");
    assert_eq!(a.status().mode, FleetMode::Shared);
    // Redis came back empty, and was told of the 800 before it was used again: a 300-token
    // prompt does not fit the minute (800 + 300 > 1,000), a 150-token one does.
    let ask = |prompt_tokens| Demand {
        prompt_tokens,
        worst_case_usd: Money::ZERO,
    };
    let over = a.admit(&key, Utc::now(), ask(300)).await;
    assert!(
        matches!(over, Err(Denied::RateLimited { .. })),
        "{:?}",
        over.map(|_| ())
    );
    assert!(a.admit(&key, Utc::now(), ask(150)).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rpm_slot_of_an_admission_that_timed_out_and_was_refused_is_given_back() {
    let server = Private::start();
    let p = Prefix::new(&server.url());
    let a = p.fleet("a");
    assert!(a.beat(Utc::now()).await);
    let key = handle(KeySpec {
        rpm: Some(10),
        ..day_budget("100")
    });
    let now = Utc::now();
    for _ in 0..3 {
        drop(a.admit(&key, Utc::now(), demand("0.01")).await.unwrap());
    }
    // The call times out (hard budget: refused as unavailable), but runs in Redis when the
    // pause ends, taking a slot of the minute; its release gives the slot back.
    server.pause(600);
    let refused = a.admit(&key, Utc::now(), demand("0.01")).await.unwrap_err();
    assert!(matches!(refused, Denied::Unavailable { .. }), "{refused}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(back(&a).await, "redis answers after the pause");
    assert!(eventually(|| p.field("key_fleet", Period::Day, now, "reserved") == 0).await);
    let mut after = 0;
    for _ in 0..10 {
        if a.admit(&key, Utc::now(), demand("0.01")).await.is_ok() {
            after += 1;
        }
    }
    // (A request's interval is 6 s; the test takes about two, so nothing refilled.)
    assert_eq!(
        after, 7,
        "10 a minute, 3 admitted, the refused one's slot back"
    );
}
