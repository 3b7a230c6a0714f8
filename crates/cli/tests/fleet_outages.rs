//! The shared services fail under load: a private PostgreSQL cluster stopped with
//! `pg_ctl stop -m immediate` and started again (records, captures and shadow results spool
//! and are replayed, each exactly once), and a private `redis-server` killed and started again empty (replicas fall back to
//! their local share and reconcile when it returns). Three `switchyard serve` processes each;
//! no client sees an error.

#![expect(
    clippy::unwrap_used,
    reason = "test: a setup failure should fail the test loudly"
)]

mod fleet_support;

use fleet_support::*;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "pw-never-shown-4711";

fn replica_toml(ledger: &str, sim: &str, fleet: &str, route_extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
[ledger]
path = "{ledger}"
flush_interval_ms = 100
{fleet}
[providers.sim]
kind = "openai-compatible"
base_url = "{sim}/v1"
[[routes]]
name = "chat"
targets = [{{ provider = "sim", model = "gpt-4o" }}]
{route_extra}
"#
    )
}

/// Every answer captured, and half mirrored to a shadow candidate: the eval store's writes
/// ride out the outage beside the ledger's.
const CAPTURE_AND_SHADOW: &str = r#"
[routes.capture]
rate = 1.0
max_per_day = 1000000
[[routes.shadow]]
provider = "sim"
model = "gpt-4o-mini"
rate = 0.5
"#;

/// Clients asking the replicas round robin, each again as soon as answered, until stopped.
struct Load {
    stop: Arc<AtomicBool>,
    answers: Arc<Mutex<Vec<Option<Answer>>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(urls: &[String], secret: &str, clients: usize) -> Load {
        let (stop, answers) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(Mutex::new(Vec::new())),
        );
        let c = client();
        let tasks = (0..clients)
            .map(|i| {
                let (c, base, secret) =
                    (c.clone(), urls[i % urls.len()].clone(), secret.to_string());
                let (stop, answers) = (stop.clone(), answers.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let a = chat(&c, &base, &secret, 20).await;
                        answers.lock().unwrap().push(a);
                    }
                })
            })
            .collect();
        Load {
            stop,
            answers,
            tasks,
        }
    }

    async fn finish(self) -> Vec<Option<Answer>> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = t.await;
        }
        self.answers.lock().unwrap().clone()
    }

    fn so_far(&self) -> usize {
        self.answers.lock().unwrap().len()
    }
}

fn errors(answers: &[Option<Answer>]) -> Vec<&Option<Answer>> {
    answers
        .iter()
        .filter(|a| !matches!(a, Some(a) if a.status == 200))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_load_spools_and_every_request_is_recorded_exactly_once() {
    let _one = serial().await;
    let Some(pg) = PrivatePg::start() else {
        return;
    };
    let dir = scratch("pgdown");
    let sim = Sim::start(
        &dir,
        "seed = 1\n[defaults]\nttft_ms = 20\ntokens_per_second = 0\n",
    );
    let toml = replica_toml(&pg.url(PASSWORD), &sim.url, "", CAPTURE_AND_SHADOW);
    let mut replicas: Vec<Replica> = ["a", "b", "c"]
        .iter()
        .map(|r| Replica::start(&dir, r, &toml))
        .collect();
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
    let c = client();
    let load = Load::start(&urls, "", 6);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    pg.stop_immediate();
    let stopped = load.so_far();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        load.so_far() > stopped + 30,
        "requests went on while PostgreSQL was down"
    );
    // While it is down: the replicas say so, and never show the URL's password.
    let (mut spooling, mut eval_spooling) = (0, 0);
    for u in &urls {
        let s = status(&c, u).await;
        let l = &s["ledger"];
        assert!(!s.to_string().contains(PASSWORD), "{s}");
        if l["state"] == "spooling" && l["spooled"].as_u64().unwrap_or(0) > 0 {
            eprintln!(
                "spooling: {} records in {} bytes",
                l["spooled"], l["spool_bytes"]
            );
            assert!(l["spool_bytes"].as_u64().unwrap_or(0) > 0, "{l}");
            assert!(l["last_error"].is_string(), "{l}");
            spooling += 1;
        }
        let e = &s["evaluation"];
        if e["eval_spooled"].as_u64().unwrap_or(0) > 0 {
            eval_spooling += 1;
        }
    }
    assert_eq!(spooling, 3, "every replica spools");
    assert_eq!(eval_spooling, 3, "every replica spools its captures");
    pg.start_server();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let answers = load.finish().await;
    assert!(
        errors(&answers).is_empty(),
        "no client error: {:?}",
        &errors(&answers)[..errors(&answers).len().min(3)]
    );
    // The replicas replay within a retry interval of PostgreSQL's return.
    assert!(
        eventually(Duration::from_secs(5), || {
            let (c, urls) = (c.clone(), urls.clone());
            async move {
                let mut ok = true;
                for u in &urls {
                    let s = status(&c, u).await;
                    let (l, e) = (&s["ledger"], &s["evaluation"]);
                    ok &= l["state"] == "ok" && l["spooled"] == 0 && e["eval_spooled"] == 0;
                }
                ok
            }
        })
        .await,
        "the spools drained"
    );
    let (mut replayed, mut eval_replayed, mut eval_lost) = (0, 0, 0);
    for u in &urls {
        let s = status(&c, u).await;
        replayed += s["ledger"]["replayed"].as_u64().unwrap_or(0);
        let e = &s["evaluation"];
        eval_replayed += e["eval_replayed"].as_u64().unwrap_or(0);
        eval_lost += e["captures_dropped"].as_u64().unwrap_or(0)
            + e["eval_writes_failed"].as_u64().unwrap_or(0);
    }
    for r in &mut replicas {
        r.proc.terminate();
        let log = r.log();
        assert!(!log.contains(PASSWORD), "the log shows the password");
        let warnings = log.matches("the ledger store refuses writes").count();
        assert!(
            (1..=2).contains(&warnings),
            "the outage is logged once per 10 s, not per batch: {warnings}"
        );
    }
    let url = pg.url(PASSWORD);
    let ids: Vec<String> = answers
        .iter()
        .flatten()
        .filter_map(|a| a.request_id.clone())
        .collect();
    assert_eq!(
        ids.len(),
        answers.len(),
        "every answer carries its request id"
    );
    let mut in_ledger: HashMap<String, u32> = HashMap::new();
    for id in pg_query(&url, "SELECT request_id FROM requests WHERE NOT shadow")
        .into_iter()
        .flatten()
    {
        *in_ledger.entry(id).or_default() += 1;
    }
    let missing = ids.iter().filter(|id| !in_ledger.contains_key(*id)).count();
    let twice = in_ledger.values().filter(|n| **n > 1).count();
    eprintln!(
        "postgres outage: {} requests, {replayed} records replayed from the spools, {missing} missing, {twice} twice",
        ids.len()
    );
    assert!(replayed > 30, "records went through the spool");
    assert_eq!((missing, twice), (0, 0));
    assert_eq!(
        in_ledger.len(),
        ids.len(),
        "no record the clients did not cause"
    );
    // The rollups counted each record once, replays included.
    let rolled = pg_query(
        &url,
        "SELECT SUM(requests)::text FROM rollup_hourly WHERE NOT shadow",
    );
    assert_eq!(rolled[0].as_deref(), Some(ids.len().to_string().as_str()));
    // Every answer was captured, the outage's included, once each (captures are keyed by
    // request id); every shadow call the ledger recorded has its one scored result.
    let captured: std::collections::HashSet<String> = pg_query(&url, "SELECT id FROM captures")
        .into_iter()
        .flatten()
        .collect();
    let uncaptured = ids.iter().filter(|id| !captured.contains(*id)).count();
    let shadows = pg_query(
        &url,
        "SELECT COUNT(*)::text FROM requests WHERE shadow AND status = 200",
    );
    let results = pg_query(
        &url,
        "SELECT COUNT(DISTINCT request_id)::text || '/' || COUNT(*)::text FROM shadow_results",
    );
    eprintln!(
        "postgres outage: {} captures, {eval_replayed} eval writes replayed, {uncaptured} requests not captured ({eval_lost} dropped or failed); shadow results (distinct/all) {}, shadow calls answered {}",
        captured.len(),
        results[0].as_deref().unwrap_or(""),
        shadows[0].as_deref().unwrap_or("")
    );
    assert_eq!(eval_lost, 0, "no capture dropped or refused for good");
    assert!(eval_replayed > 30, "captures went through the spool");
    assert_eq!(uncaptured, 0, "every answer's capture arrived");
    assert_eq!(
        captured.len(),
        ids.len(),
        "no capture the clients did not cause"
    );
    let shadows = shadows[0].clone().unwrap_or_default();
    assert_ne!(shadows, "0", "shadow calls ran");
    assert_eq!(
        results[0].as_deref(),
        Some(format!("{shadows}/{shadows}").as_str()),
        "one result per shadow call, none twice"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_under_load_falls_back_without_errors_and_reconciles_when_back() {
    let _one = serial().await;
    let mut redis = PrivateRedis::start();
    let prefix = Prefix::new("redisdown");
    let dir = scratch("redisdown");
    let ledger = dir.join("ledger.db");
    let sim = Sim::start(
        &dir,
        "seed = 1\n[defaults]\nttft_ms = 20\ntokens_per_second = 0\n",
    );
    let fleet = format!(
        "[fleet]\nredis_url = \"{}\"\nprefix = \"{}\"\nheartbeat_ms = 200\nreconcile_interval_ms = 1000\ntimeout_ms = 1000",
        redis.url(),
        prefix.0
    );
    let toml = replica_toml(&ledger.to_string_lossy(), &sim.url, &fleet, "");
    let replicas: Vec<Replica> = ["a", "b", "c"]
        .iter()
        .map(|r| Replica::start(&dir, r, &toml))
        .collect();
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
    let c = client();
    let (secret, id) = create_key(
        &c,
        &urls[0],
        json!({"budgets": [{"period": "day", "limit_usd": "5"}], "rpm": 100000}),
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
    let load = Load::start(&urls, &secret, 6);
    tokio::time::sleep(Duration::from_millis(800)).await;
    redis.stop();
    let stopped_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for u in &urls {
        let f = status(&c, u).await["fleet"].clone();
        assert_eq!(f["mode"], "fallback", "{u}: {f}");
        assert!(f["fallback_admissions"].as_u64().unwrap_or(0) > 0, "{f}");
    }
    redis.restart();
    let back = eventually(Duration::from_secs(3), || {
        let (c, urls) = (c.clone(), urls.clone());
        async move {
            let mut shared = true;
            for u in &urls {
                shared &= status(&c, u).await["fleet"]["mode"] == "shared";
            }
            shared
        }
    })
    .await;
    let answers = load.finish().await;
    assert!(back, "every replica is back on the shared counters");
    assert!(
        errors(&answers).is_empty(),
        "no client error: {:?}",
        &errors(&answers)[..errors(&answers).len().min(3)]
    );
    eprintln!(
        "redis outage: {} requests, shared again {} ms after the stop",
        answers.len(),
        stopped_at.elapsed().as_millis()
    );
    // Redis came back empty: the outage's spend is added back and reconciling raises the
    // counter to the ledger's figure, so Redis ends holding what the ledger holds.
    let ledger_spend = || -> rust_decimal::Decimal {
        use switchyard_ledger::SpendSource;
        let day = chrono::Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let store = switchyard_ledger::SqliteStore::open_existing(&ledger).unwrap();
        store.spent_since(&id, day).unwrap().decimal()
    };
    let redis_spend = || -> rust_decimal::Decimal {
        let mut conn = redis::Client::open(redis.url())
            .unwrap()
            .get_connection()
            .unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}k{{{id}}}:b:*", prefix.0))
            .query(&mut conn)
            .unwrap();
        let mut nano = 0i64;
        for k in keys {
            let v: Option<i64> = redis::cmd("HGET")
                .arg(&k)
                .arg("spent")
                .query(&mut conn)
                .unwrap();
            nano += v.unwrap_or(0);
        }
        rust_decimal::Decimal::new(nano, 9)
    };
    let (mut drift_seen, start) = (false, Instant::now());
    let mut last = (rust_decimal::Decimal::ZERO, rust_decimal::Decimal::ONE);
    while start.elapsed() < Duration::from_secs(5) {
        for u in &urls {
            drift_seen |= status(&c, u).await["fleet"]["drift"]
                .as_array()
                .is_some_and(|d| !d.is_empty());
        }
        last = (redis_spend(), ledger_spend());
        if last.0 == last.1 && drift_seen {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "redis outage: after reconciling Redis holds ${} spent, the ledger ${}",
        last.0, last.1
    );
    assert!(last.1 > rust_decimal::Decimal::ZERO);
    assert_eq!(last.0, last.1, "Redis reconciled to the ledger's spend");
    assert!(drift_seen, "the reconcile reported the drift");
    drop(replicas);
    let _ = std::fs::remove_dir_all(&dir);
}
