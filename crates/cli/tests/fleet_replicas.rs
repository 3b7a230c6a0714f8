//! Three `switchyard serve` processes sharing one PostgreSQL ledger (a scratch schema in the
//! shared database) and the shared Redis under a prefix of their own (deleted at the end):
//! one hard budget holds across all three under 600 concurrent requests, one `rpm` limit
//! holds within 2%, a revoked key is refused everywhere within a second, and a replica
//! killed with `kill -9` loses at most its last flush interval while the others serve on and
//! its reservations expire.

mod fleet_support;

use fleet_support::*;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_ledger::ScratchSchema;

/// A burst of 600 requests on two shared cores can keep a Redis call waiting longer than the
/// default `timeout_ms`, and a replica then enforces its local share instead (documented in
/// docs/deployment.md). These tests are about the shared counters, so they allow a second.
const SLOW_OK: &str = "timeout_ms = 1000";

fn sim_toml(ttft_ms: u64) -> String {
    format!("seed = 7\n[defaults]\nttft_ms = {ttft_ms}\ntokens_per_second = 0\n")
}

/// One replica's configuration: the shared ledger and Redis prefix, the simulator.
fn replica_toml(ledger: &str, redis: &str, prefix: &str, sim: &str, fleet_extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
[ledger]
path = "{ledger}"
flush_interval_ms = 100
[admin]
key_poll_ms = 3600000
[fleet]
redis_url = "{redis}"
prefix = "{prefix}"
heartbeat_ms = 200
{fleet_extra}
[providers.sim]
kind = "openai-compatible"
base_url = "{sim}/v1"
[[routes]]
name = "chat"
targets = [{{ provider = "sim", model = "gpt-4o" }}]
"#
    )
}

struct Fleet {
    _sim: Sim,
    replicas: Vec<Replica>,
    schema: ScratchSchema,
    prefix: Prefix,
    dir: std::path::PathBuf,
}

impl Fleet {
    fn start(name: &str, sim_ttft_ms: u64, fleet_extra: &str) -> Option<Fleet> {
        let schema = match ScratchSchema::create(&shared_pg(), "sy_fleet") {
            Ok(s) => s,
            Err(e) => panic!("the shared PostgreSQL at {} is needed: {e}", shared_pg()),
        };
        let dir = scratch(name);
        let sim = Sim::start(&dir, &sim_toml(sim_ttft_ms));
        let prefix = Prefix::new(name);
        let toml = replica_toml(schema.url(), SHARED_REDIS, &prefix.0, &sim.url, fleet_extra);
        let replicas = ["a", "b", "c"]
            .iter()
            .map(|r| Replica::start(&dir, r, &toml))
            .collect();
        Some(Fleet {
            _sim: sim,
            replicas,
            schema,
            prefix,
            dir,
        })
    }

    fn urls(&self) -> Vec<String> {
        self.replicas.iter().map(|r| r.url.clone()).collect()
    }

    fn query(&self, sql: &str) -> Vec<Option<String>> {
        pg_query(self.schema.url(), sql)
    }

    /// Waits until the replicas' recorders wrote at least `n` records together and then
    /// nothing more for three flush intervals (the last answers are committed).
    async fn all_written(&self, c: &switchyard_providers::HttpClient, n: usize) -> bool {
        let urls = self.urls();
        let written = || {
            let (c, urls) = (c.clone(), urls.clone());
            async move {
                let mut sum = 0;
                for u in &urls {
                    sum += status(&c, u).await["ledger"]["written"]
                        .as_u64()
                        .unwrap_or(0);
                }
                sum as usize
            }
        };
        let start = Instant::now();
        let mut last = written().await;
        while start.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = written().await;
            if now >= n && now == last {
                return true;
            }
            last = now;
        }
        false
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for r in &mut self.replicas {
            r.proc.terminate();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Asks every replica but the first until it serves `secret` (a replica that has not loaded
/// the first key yet serves anyone, as a gateway without keys does); returns how many
/// rounds that took.
async fn known_everywhere(
    c: &switchyard_providers::HttpClient,
    urls: &[String],
    secret: &str,
) -> usize {
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for u in &urls[1..] {
        let ok = eventually(Duration::from_secs(2), || {
            let (c, u, s, asked) = (c.clone(), u.clone(), secret.to_string(), asked.clone());
            async move {
                asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // A made-up key is refused only once the replica knows that keys exist.
                let probe = chat(&c, &u, "sk-sy-not-a-key", 1).await;
                let real = chat(&c, &u, &s, 1).await;
                probe.is_some_and(|a| a.status == 401) && real.is_some_and(|a| a.status == 200)
            }
        })
        .await;
        assert!(ok, "{u} knows the key");
    }
    asked.load(std::sync::atomic::Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_concurrent_requests_over_three_replicas_never_overspend_one_hard_budget() {
    let _one = serial().await;
    let fleet = Fleet::start("budget", 100, SLOW_OK).unwrap();
    let c = client();
    let urls = fleet.urls();
    // Worst case of one request: 25 output tokens of gpt-4o ($10/M) plus the prompt, about
    // $0.0003, near what an answer costs: the budget is used up to within a few answers,
    // and replicas that each enforced it alone would spend up to three times as much.
    let budget = rust_decimal::Decimal::new(1, 2);
    let (secret, id) = create_key(
        &c,
        &urls[0],
        json!({"budgets": [{"period": "day", "limit_usd": "0.01"}]}),
    )
    .await;
    let rounds = known_everywhere(&c, &urls, &secret).await;
    let answers = burst(&urls, &secret, 600, 25).await;
    let ok = count(&answers, 200, None);
    let refused = count(&answers, 429, Some("budget_exceeded"));
    let other: Vec<_> = answers
        .iter()
        .filter(|a| !matches!(a, Some(a) if a.status == 200 || a.code.as_deref() == Some("budget_exceeded")))
        .collect();
    assert_eq!(
        ok + refused,
        600,
        "every request answered 200 or budget_exceeded: {} others, e.g. {:?}",
        other.len(),
        &other[..other.len().min(5)]
    );
    assert!(
        ok >= 20 && refused >= 100,
        "the budget admitted some and refused the rest: {ok} ok, {refused} refused"
    );
    // The burst's holds are worst-case bounds, so while they are all in flight the budget
    // looks fuller than it ends up: after settlement about half is left. Smaller bursts
    // follow until one admits nothing; by then what is left is less than one request's bound.
    let mut sent = 600;
    let mut ok_total = ok;
    for _ in 0..20 {
        let more = burst(&urls, &secret, 30, 25).await;
        sent += more.len();
        let admitted = count(&more, 200, None);
        assert_eq!(
            admitted + count(&more, 429, Some("budget_exceeded")),
            more.len(),
            "the follow-up bursts answer 200 or budget_exceeded"
        );
        ok_total += admitted;
        if admitted == 0 {
            break;
        }
    }
    // Every request answered (the bursts and the probes) is written before the sum is read.
    let reached = fleet.all_written(&c, sent + rounds).await;
    if !reached {
        for r in &fleet.replicas {
            eprintln!(
                "{}: {}\n{}",
                r.url,
                status(&c, &r.url).await["ledger"],
                r.log()
            );
        }
    }
    assert!(reached, "every answer was recorded: {ok} + 2 answered, ledger {:?} for {id}",
        fleet.query("SELECT COALESCE(key_id, '-') || ' ' || status || ' ' || COALESCE(error_class, '-') || ' ' || COUNT(*) FROM requests GROUP BY key_id, status, error_class"));
    // Everything the key was charged, the probes included; a probe a replica served before
    // it knew that keys exist carries no key and is not charged.
    let spent = fleet.query(&format!(
        "SELECT COALESCE(SUM(cost_usd), 0)::text FROM requests WHERE key_id = '{id}'"
    ));
    let spent: rust_decimal::Decimal = spent[0].clone().unwrap_or_default().parse().unwrap();
    let overspend = (spent - budget).max(rust_decimal::Decimal::ZERO);
    eprintln!(
        "fleet budget: first burst {ok} admitted, {refused} refused; {ok_total} admitted over {sent}; ledger spend ${spent} of ${budget}, overspend ${overspend}"
    );
    assert_eq!(
        overspend,
        rust_decimal::Decimal::ZERO,
        "spend {spent} over the budget {budget}"
    );
    // Less than one worst-case bound ($0.0003) was left when the last burst was refused.
    assert!(
        spent >= budget - rust_decimal::Decimal::new(6, 4),
        "the bursts used the budget up (spent {spent})"
    );
    assert!(
        eventually(Duration::from_secs(3), || {
            let held = fleet.prefix.reserved(SHARED_REDIS);
            async move { held == 0 }
        })
        .await,
        "holds left in Redis: {} nano-USD",
        fleet.prefix.reserved(SHARED_REDIS)
    );
    for u in &urls {
        let s = status(&c, u).await;
        assert_eq!(s["fleet"]["mode"], "shared", "{s}");
        assert_eq!(s["fleet"]["fallback_admissions"], 0, "{s}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_rpm_limit_holds_within_two_percent_across_three_replicas() {
    let _one = serial().await;
    let fleet = Fleet::start("rpm", 0, SLOW_OK).unwrap();
    let c = client();
    let urls = fleet.urls();
    let rpm = 300u32;
    let (secret, _) = create_key(&c, &urls[0], json!({"rpm": rpm})).await;
    // The key must be known everywhere before the clock starts (a 401 is no admission).
    for u in &urls[1..] {
        let u = u.clone();
        assert!(
            eventually(Duration::from_secs(2), || {
                let (c, u) = (c.clone(), u.clone());
                async move {
                    admin(&c, &u, "GET", "/admin/keys", None)
                        .await
                        .1
                        .to_string()
                        .contains("rpm")
                }
            })
            .await
        );
    }
    let start = Instant::now();
    let answers = burst(&urls, &secret, 600, 5).await;
    let elapsed = start.elapsed().as_secs_f64();
    let ok = count(&answers, 200, None);
    let limited = count(&answers, 429, Some("rate_limit_exceeded"));
    assert_eq!(ok + limited, 600, "only 200s and rate-limit refusals");
    // A full bucket admits `rpm` at once, then one every 60/rpm seconds.
    let allowed = f64::from(rpm) * (1.0 + elapsed / 60.0);
    let tolerance = f64::from(rpm) * 0.02;
    for u in &urls {
        let s = status(&c, u).await;
        eprintln!("{u}: {}", s["fleet"]);
    }
    eprintln!(
        "fleet rpm: {ok} admitted in {elapsed:.2} s against rpm {rpm} (allowed {allowed:.1} ± {tolerance})"
    );
    assert!(
        (ok as f64) <= allowed + tolerance,
        "{ok} admitted, at most {allowed:.1} allowed"
    );
    assert!(
        (ok as f64) >= f64::from(rpm) - tolerance,
        "{ok} admitted, the limit is {rpm}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_one_replica_is_refused_by_the_two_others_within_a_second() {
    let _one = serial().await;
    let fleet = Fleet::start("revoke", 0, "").unwrap();
    let c = client();
    let urls = fleet.urls();
    let (secret, id) = create_key(&c, &urls[0], json!({"rpm": 10000})).await;
    for u in &urls[1..] {
        let (u, s) = (u.clone(), secret.clone());
        assert!(
            eventually(Duration::from_secs(1), || {
                let (c, u, s) = (c.clone(), u.clone(), s.clone());
                async move { chat(&c, &u, &s, 1).await.is_some_and(|a| a.status == 200) }
            })
            .await,
            "{u} accepted the new key within 1 s"
        );
    }
    let (status, v) = admin(
        &c,
        &urls[0],
        "POST",
        &format!("/admin/keys/{id}/revoke"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let revoked = Instant::now();
    let mut waits = Vec::new();
    for u in &urls[1..] {
        let (c, s, u) = (c.clone(), secret.clone(), u.clone());
        waits.push(tokio::spawn(async move {
            eventually(Duration::from_secs(1), || {
                let (c, u, s) = (c.clone(), u.clone(), s.clone());
                async move { chat(&c, &u, &s, 1).await.is_some_and(|a| a.status == 401) }
            })
            .await
        }));
    }
    for w in waits {
        assert!(w.await.unwrap(), "refused within 1 s of the revoke");
    }
    eprintln!(
        "fleet revoke: refused by B and C {} ms after the revoke",
        revoked.elapsed().as_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_under_load_loses_at_most_its_last_flush_and_its_holds_expire() {
    let _one = serial().await;
    let fleet = Fleet::start("kill", 300, "lease_ms = 1500").unwrap();
    let c = client();
    let urls = fleet.urls();
    let (secret, id) = create_key(
        &c,
        &urls[0],
        json!({"budgets": [{"period": "day", "limit_usd": "100"}]}),
    )
    .await;
    for u in &urls[1..] {
        let (u, s) = (u.clone(), secret.clone());
        assert!(
            eventually(Duration::from_secs(2), || {
                let (c, u, s) = (c.clone(), u.clone(), s.clone());
                async move { chat(&c, &u, &s, 1).await.is_some_and(|a| a.status == 200) }
            })
            .await
        );
    }
    // Eight clients per replica, each asking again as soon as it is answered, for 3 s.
    let stop_at = Instant::now() + Duration::from_secs(3);
    let answered = Arc::new(std::sync::Mutex::new(
        Vec::<(usize, Instant, Option<Answer>)>::new(),
    ));
    let mut tasks = Vec::new();
    for (r, url) in urls.iter().enumerate() {
        for _ in 0..8 {
            let (c, base, s, answered) = (c.clone(), url.clone(), secret.clone(), answered.clone());
            tasks.push(tokio::spawn(async move {
                while Instant::now() < stop_at {
                    let a = chat(&c, &base, &s, 50).await;
                    let failed = a.is_none();
                    answered.lock().unwrap().push((r, Instant::now(), a));
                    if failed && r == 2 {
                        return;
                    }
                }
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut fleet = fleet;
    let killed_at = Instant::now();
    fleet.replicas[2].proc.kill9();
    let held_after_kill = fleet.prefix.reserved(SHARED_REDIS);
    for t in tasks {
        let _ = t.await;
    }
    let answered = answered.lock().unwrap().clone();
    let survivors: Vec<_> = answered.iter().filter(|(r, _, _)| *r < 2).collect();
    assert!(
        survivors.len() > 20,
        "the others kept serving: {}",
        survivors.len()
    );
    assert!(
        survivors
            .iter()
            .all(|(_, _, a)| matches!(a, Some(a) if a.status == 200)),
        "no error from A or B: {:?}",
        survivors
            .iter()
            .filter(|(_, _, a)| !matches!(a, Some(a) if a.status == 200))
            .take(3)
            .collect::<Vec<_>>()
    );
    assert!(
        held_after_kill > 0,
        "the killed replica held budget when it died"
    );
    // A lease expires `lease_ms` after its admission; the next admission clears it.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(
        chat(&c, &urls[0], &secret, 1).await.map(|a| a.status),
        Some(200)
    );
    assert!(
        eventually(Duration::from_secs(2), || {
            let held = fleet.prefix.reserved(SHARED_REDIS);
            async move { held == 0 }
        })
        .await,
        "the dead replica's holds expired: {} nano-USD still held",
        fleet.prefix.reserved(SHARED_REDIS)
    );
    // What C answered before its last flush interval is in the ledger; only the tail may be
    // lost. One interval (100 ms) plus a commit's time is the bound.
    let bound = Duration::from_millis(100 + 150);
    let in_ledger: HashSet<String> = fleet
        .query(&format!(
            "SELECT request_id FROM requests WHERE key_id = '{id}'"
        ))
        .into_iter()
        .flatten()
        .collect();
    let by_c: Vec<_> = answered
        .iter()
        .filter(|(r, _, a)| *r == 2 && matches!(a, Some(a) if a.status == 200))
        .collect();
    let old_lost: Vec<_> = by_c
        .iter()
        .filter(|(_, at, a)| {
            killed_at.duration_since(*at) > bound
                && !in_ledger.contains(
                    a.as_ref()
                        .and_then(|a| a.request_id.as_deref())
                        .unwrap_or(""),
                )
        })
        .collect();
    let lost = by_c
        .iter()
        .filter(|(_, _, a)| {
            !in_ledger.contains(
                a.as_ref()
                    .and_then(|a| a.request_id.as_deref())
                    .unwrap_or(""),
            )
        })
        .count();
    eprintln!(
        "fleet kill -9: C answered {} before dying, {lost} of them not in the ledger (all within the last {} ms)",
        by_c.len(),
        bound.as_millis()
    );
    assert!(by_c.len() >= 8, "C answered under load before the kill");
    assert!(
        old_lost.is_empty(),
        "{} records older than the flush bound were lost",
        old_lost.len()
    );
}
