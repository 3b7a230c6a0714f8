//! Fault tests: a private `redis-server` on a free port that the test stops and restarts, so
//! the shared Redis stays up.

use super::tests::{Prefix, day_budget, demand, eventually, handle, t0, usd_of};
use super::*;
use crate::{Denied, KeySpec, Period};
use std::process::{Child, Command, Stdio};

/// A `redis-server` of the test's own, killed when dropped.
struct Private {
    port: u16,
    child: Option<Child>,
}

impl Private {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Private { port, child: None };
        server.restart();
        server
    }

    fn url(&self) -> String {
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
    fn pause(&self, ms: u64) {
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
    let (a, b) = (p.fleet("a"), p.fleet("b"));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_hands_out_no_second_minute_of_rpm_and_no_budget_twice() {
    let server = Private::start();
    let p = Prefix::new(&server.url());
    let (a, b) = (p.fleet("a"), p.fleet("b"));
    assert!(a.beat(Utc::now()).await && b.beat(Utc::now()).await);
    assert!(a.beat(Utc::now()).await);
    let key = handle(KeySpec {
        rpm: Some(10),
        ..day_budget("10")
    });
    let now = Utc::now();
    let mut admitted = 0;
    // Six through Redis ($1 each, settled at $1): four requests and $4 left for the fleet.
    for _ in 0..6 {
        let adm = a.admit(&key, now, demand("1")).await.unwrap();
        adm.reservation.settle(usd_of("1"), 0, now);
        admitted += 1;
    }
    // Redis stalls longer than the 100 ms timeout: the call that times out is judged by the
    // local share, cut from what Redis last said was left (4 / 2 replicas = 2 requests),
    // not a full bucket (10 / 2 = 5).
    server.pause(400);
    let mut local = 0;
    for _ in 0..5 {
        if let Ok(adm) = a.admit(&key, now, demand("1")).await {
            adm.reservation.settle(usd_of("1"), 0, now);
            local += 1;
        }
    }
    assert_eq!(local, 2, "a's share of the four requests left");
    assert_ne!(a.status().mode, FleetMode::Shared);
    admitted += local;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut back = false;
    for _ in 0..20 {
        back = a.beat(Utc::now()).await;
        if back {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(back, "redis answers again after the pause");
    // Redis was told of the two local admissions before it was used again: together with
    // what it counted itself, at most the two left for the minute remain (the call that
    // timed out may have counted twice, which only refuses sooner).
    for r in [&a, &b, &a, &b] {
        if let Ok(adm) = r.admit(&key, now, demand("1")).await {
            adm.reservation.settle(usd_of("1"), 0, now);
            admitted += 1;
        }
    }
    assert!(
        admitted <= 10,
        "{admitted} admitted against rpm 10 in one minute"
    );
    assert!(admitted >= 8, "{admitted}: the shares were not lost either");
    // Spend: $1 per admitted request, each counted once in Redis (the timed-out one through
    // its own reservation, the other as deferred spend), never over the $10 budget.
    let want = i64::from(admitted) * 1_000_000_000;
    assert!(
        eventually(|| p.field("key_fleet", Period::Day, now, "spent") == want).await,
        "spent {} nano, want {want}",
        p.field("key_fleet", Period::Day, now, "spent")
    );
    assert!(eventually(|| p.field("key_fleet", Period::Day, now, "reserved") == 0).await);
}
