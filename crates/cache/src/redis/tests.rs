//! The Redis store against real servers: the shared one on 127.0.0.1:6379 (the conformance
//! suite, each store under its own random prefix, purged after) and private `redis-server`
//! processes on free ports for the faults (stopped mid-test, restarted on the same port).
//!
//! Without a server on 6379 the shared tests skip with a message, except under `CI`, where
//! Redis is provided and its absence is a failure. Keys a failed run leaves behind expire
//! within a minute (the suite's longest TTL).

use super::*;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const SHARED: &str = "redis://127.0.0.1:6379";

fn shared_redis_is_up() -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 6379));
    if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "Redis must run on 127.0.0.1:6379 in CI"
    );
    eprintln!("skipped: no Redis on 127.0.0.1:6379 (start one to run the Redis store tests)");
    false
}

/// A prefix no other run shares: process id and the clock's nanoseconds.
fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("switchyard:test:{test}:{}:{nanos}:", std::process::id())
}

/// Generous timeouts: these tests pin behaviour, not speed, on a loaded machine.
fn options(prefix: &str, op_timeout: Duration) -> RedisOptions {
    RedisOptions {
        prefix: prefix.to_owned(),
        connect_timeout: op_timeout,
        op_timeout,
        health_interval: Duration::from_millis(100),
    }
}

fn key(n: u8) -> Key {
    Key([n; 32])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_store_passes_the_conformance_suite() {
    if !shared_redis_is_up() {
        return;
    }
    let base = unique_prefix("conformance");
    let n = AtomicU32::new(0);
    crate::conformance::run_all(|| {
        let prefix = format!("{base}{}:", n.fetch_add(1, Ordering::Relaxed));
        RedisStore::open(SHARED, &options(&prefix, Duration::from_secs(2))).unwrap()
    })
    .await;
    let all = RedisStore::open(SHARED, &options(&base, Duration::from_secs(2))).unwrap();
    assert!(all.purge().await.unwrap() > 0, "the suite left live keys");
    assert_eq!(all.purge().await.unwrap(), 0, "a purge removes every key");
}

#[tokio::test]
async fn values_live_under_the_prefix_with_the_ttl_as_px() {
    if !shared_redis_is_up() {
        return;
    }
    let prefix = unique_prefix("layout");
    let store = RedisStore::open(SHARED, &options(&prefix, Duration::from_secs(2))).unwrap();
    store
        .put(
            &key(7),
            Bytes::from_static(b"answer"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let name = format!("{prefix}{}", key(7).hex());
    let mut raw = redis::Client::open(SHARED)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&name)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!((1..=10_000).contains(&ttl), "PTTL {ttl}");
    let value: Vec<u8> = redis::cmd("GET")
        .arg(&name)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(value, b"answer");
    assert_eq!(store.purge().await.unwrap(), 1);
    assert!(store.state().healthy);
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

/// A private `redis-server`, killed when dropped.
struct Server(Child);

impl Server {
    /// `None` (the test skips) when `redis-server` is not installed.
    fn start(port: u16) -> Option<Server> {
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("skipped: `redis-server` is not installed");
                return None;
            }
            Err(e) => panic!("starting redis-server: {e}"),
        };
        let server = Server(child);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    fn stop(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `ready` every 50 ms for up to 10 s.
async fn eventually(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_redis_fails_operations_fast_and_the_same_store_recovers_when_it_returns() {
    let port = free_port();
    let Some(server) = Server::start(port) else {
        return;
    };
    let url = format!("redis://127.0.0.1:{port}");
    let store = RedisStore::open(&url, &options("t:", Duration::from_millis(250))).unwrap();
    eventually("the store connects", async || store.state().healthy).await;
    let value = Bytes::from_static(b"v");
    let minute = Duration::from_secs(60);
    store.put(&key(1), value.clone(), minute).await.unwrap();
    assert_eq!(store.get(&key(1)).await.unwrap(), Some(value.clone()));

    server.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let err = store.get(&key(1)).await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        // Not a speed figure: a down store must answer within its timeouts, never hang.
        assert!(started.elapsed() < Duration::from_secs(2), "stalled");
    }
    let err = store.put(&key(2), value.clone(), minute).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let state = store.state();
    assert!(!state.healthy);
    assert!(state.last_error.is_some(), "{state:?}");

    let _server = Server::start(port).unwrap();
    // No operation in between: the health tick alone reconnects.
    eventually("the store sees Redis back", async || store.state().healthy).await;
    assert_eq!(store.state().last_error, None);
    store.put(&key(3), value.clone(), minute).await.unwrap();
    assert_eq!(store.get(&key(3)).await.unwrap(), Some(value));
}

#[tokio::test]
async fn a_store_whose_redis_never_started_is_unhealthy_and_answers_unavailable() {
    let url = format!("redis://:s3cret@127.0.0.1:{}", free_port());
    let store = RedisStore::open(&url, &options("t:", Duration::from_millis(250))).unwrap();
    let err = store.get(&key(1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let state = store.state();
    assert_eq!(state.kind, "redis");
    assert!(!state.healthy);
    let last = state.last_error.unwrap_or_default();
    assert!(!last.is_empty() && !last.contains("s3cret"), "{last}");
}

#[test]
fn urls_are_checked_and_their_passwords_never_echoed() {
    assert_eq!(
        redact("redis://app:s3cret@cache.internal:6379/2"),
        "redis://app:***@cache.internal:6379/2"
    );
    assert_eq!(redact("redis://:s3cret@h:1"), "redis://:***@h:1");
    assert_eq!(redact("redis://h:6379/0"), "redis://h:6379/0");
    assert!(validate_url("redis://127.0.0.1:6379/3").is_ok());
    let tls = validate_url("rediss://:s3cret@h:6380")
        .unwrap_err()
        .to_string();
    assert!(tls.contains("TLS") && !tls.contains("s3cret"), "{tls}");
    let scheme = validate_url("memcached://:s3cret@h")
        .unwrap_err()
        .to_string();
    assert!(
        scheme.contains("redis://host:port") && !scheme.contains("s3cret"),
        "{scheme}"
    );
    let bad = validate_url("redis://:s3cret@h:notaport")
        .unwrap_err()
        .to_string();
    assert!(!bad.contains("s3cret"), "{bad}");
}

#[test]
fn opening_outside_the_runtime_is_refused_with_a_reason() {
    let err = RedisStore::open(SHARED, &RedisOptions::default()).err();
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("tokio runtime"), "{message}");
}

#[tokio::test]
async fn open_picks_the_store_by_url_and_keeps_memory_the_default() {
    assert_eq!(crate::open(None, 1 << 20).unwrap().state().kind, "memory");
    assert_eq!(
        crate::open(Some("memory"), 1 << 20).unwrap().state().kind,
        "memory"
    );
    let redis = crate::open(Some(SHARED), 1 << 20).unwrap();
    assert_eq!(redis.state().kind, "redis");
    assert!(crate::open(Some("file:///tmp/x"), 1 << 20).is_err());
}

#[test]
fn options_from_config_default_what_is_absent_and_name_every_bad_key() {
    let defaults = RedisOptions::from_config(None, None, None).unwrap();
    assert_eq!(defaults, RedisOptions::default());
    let set = RedisOptions::from_config(Some("app:".into()), Some(200), Some(80)).unwrap();
    assert_eq!(set.prefix, "app:");
    assert_eq!(set.connect_timeout, Duration::from_millis(200));
    assert_eq!(set.op_timeout, Duration::from_millis(80));
    let bad = RedisOptions::from_config(Some(String::new()), Some(0), Some(0)).unwrap_err();
    let keys: Vec<&str> = bad.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, ["prefix", "connect_timeout_ms", "timeout_ms"]);
}
