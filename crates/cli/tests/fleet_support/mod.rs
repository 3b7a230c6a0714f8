//! Processes for the fleet tests: the simulator and `switchyard serve` replicas started from
//! the built binary (so a test can `kill -9` one), a private PostgreSQL cluster (`initdb` +
//! `pg_ctl` on a free port) and a private `redis-server`, each stopped when dropped, plus a
//! Redis prefix on the shared server that is deleted at the end.
//!
//! The tests live in the CLI crate because only there does cargo build the `switchyard`
//! binary for them (`CARGO_BIN_EXE_switchyard`).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test harness: a setup failure should fail the test loudly"
)]
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use switchyard_providers::HttpClient;

pub const MASTER: &str = "sy-master-fleet-test";
pub const SHARED_REDIS: &str = "redis://127.0.0.1:6379";
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// The fleet tests each run several processes with timing goals on a 2-core machine: one at
/// a time.
/// (An async lock: it is held across the test's awaits, and a failed test does not poison it.)
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let d = std::env::temp_dir().join(format!("sy-fleet-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct Proc(Option<Child>);

impl Proc {
    pub fn pid(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits for the exit (a graceful stop drains).
    pub fn terminate(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Waits until `file` holds a line with `marker`, returns the first `http://…` in it.
fn wait_for_url(file: &Path, marker: &str, proc: &mut Proc, what: &str) -> String {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(marker)) {
            if let Some(at) = line.find("http://") {
                return line[at..].split_whitespace().next().unwrap().to_string();
            }
        }
        if let Some(c) = proc.0.as_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                panic!(
                    "{what} exited ({status}) before listening; see {}",
                    file.display()
                );
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not start within 30 s; see {}", file.display());
}

/// `switchyard sim` with `config` (TOML).
pub struct Sim {
    pub url: String,
    _proc: Proc,
}

impl Sim {
    pub fn start(dir: &Path, config: &str) -> Sim {
        let cfg = dir.join("sim.toml");
        std::fs::write(&cfg, config).unwrap();
        let out = dir.join("sim.out");
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["sim", "--listen", "127.0.0.1:0", "--config"])
            .arg(&cfg)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut proc = Proc(Some(child));
        let url = wait_for_url(&out, "listening on", &mut proc, "the simulator");
        Sim { url, _proc: proc }
    }
}

/// One `switchyard serve` process in a directory of its own (its spool, eval store, logs).
pub struct Replica {
    pub url: String,
    pub dir: PathBuf,
    pub proc: Proc,
}

impl Replica {
    pub fn start(dir: &Path, name: &str, toml: &str) -> Replica {
        let dir = dir.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("switchyard.toml");
        std::fs::write(&cfg, toml).unwrap();
        let (out, err) = (dir.join("stdout"), dir.join("stderr"));
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .arg("serve")
            .arg("--config")
            .arg(&cfg)
            .current_dir(&dir)
            .env_remove("SWITCHYARD_CONFIG")
            .env("SWITCHYARD_MASTER_KEY", MASTER)
            .env("SWITCHYARD_LOG", "warn")
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        let mut proc = Proc(Some(child));
        let url = wait_for_url(&out, "listening on", &mut proc, name);
        Replica { url, dir, proc }
    }

    /// What the replica logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
    }
}

/// Answers of one client call.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub code: Option<String>,
    pub request_id: Option<String>,
}

pub fn client() -> HttpClient {
    HttpClient::new(&Default::default()).unwrap()
}

/// One chat request with `secret`; `None` when no HTTP answer came (a transport error).
pub async fn chat(c: &HttpClient, base: &str, secret: &str, max_tokens: u64) -> Option<Answer> {
    let body = serde_json::json!({"model": "chat", "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "Say one word."}]});
    let auth = format!("Bearer {secret}");
    let r = c
        .post_json(
            &format!("{base}/v1/chat/completions"),
            &[("authorization", auth.as_str())],
            body.to_string(),
        )
        .await
        .ok()?;
    let code = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
    let request_id = r
        .headers
        .get("x-switchyard-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Some(Answer {
        status: r.status,
        code,
        request_id,
    })
}

/// An admin call with the master key.
pub async fn admin(
    c: &HttpClient,
    base: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let req = http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("authorization", format!("Bearer {MASTER}"))
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))
        .unwrap();
    let r = c.fetch(req).await.unwrap();
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

/// Creates a key on `base`; returns (secret, id).
pub async fn create_key(c: &HttpClient, base: &str, spec: Value) -> (String, String) {
    let (status, v) = admin(c, base, "POST", "/admin/keys", Some(spec)).await;
    assert_eq!(status, 201, "{v}");
    (
        v["key"].as_str().unwrap().to_string(),
        v["key_info"]["id"].as_str().unwrap().to_string(),
    )
}

pub async fn status(c: &HttpClient, base: &str) -> Value {
    admin(c, base, "GET", "/v1/status", None).await.1
}

/// Polls `f` every 50 ms until it holds, for at most `within`.
pub async fn eventually<F, Fut>(within: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < within {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A key prefix on the shared Redis, deleted (every key under it) when dropped.
pub struct Prefix(pub String);

impl Prefix {
    pub fn new(test: &str) -> Prefix {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Prefix(format!(
            "switchyard:test:{test}:{}-{nanos}:",
            std::process::id()
        ))
    }

    /// Every key under the prefix on `url`.
    pub fn keys(&self, url: &str) -> Vec<String> {
        let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
        redis::cmd("KEYS")
            .arg(format!("{}*", self.0))
            .query(&mut conn)
            .unwrap_or_default()
    }

    /// The sum of `reserved` over every budget hash of the prefix (nano-dollars).
    pub fn reserved(&self, url: &str) -> i64 {
        let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
        let mut total = 0;
        for k in self.keys(url).into_iter().filter(|k| k.contains(":b:")) {
            let v: Option<i64> = redis::cmd("HGET")
                .arg(&k)
                .arg("reserved")
                .query(&mut conn)
                .unwrap_or(None);
            total += v.unwrap_or(0);
        }
        total
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let Ok(mut conn) = redis::Client::open(SHARED_REDIS).and_then(|c| c.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.0))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<u64> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// A `redis-server` of the test's own on a free port (no persistence), killed when dropped.
pub struct PrivateRedis {
    pub port: u16,
    proc: Proc,
}

impl PrivateRedis {
    pub fn start() -> PrivateRedis {
        let mut r = PrivateRedis {
            port: free_port(),
            proc: Proc(None),
        };
        r.restart();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        self.proc = Proc(Some(child));
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..300 {
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

    pub fn stop(&mut self) {
        self.proc.kill9();
    }
}

/// A PostgreSQL cluster of the test's own (`initdb` + `pg_ctl`, on a free port, under a
/// temporary directory), stopped and removed when dropped. `None` when the binaries are
/// missing. As root, the server runs as the `postgres` user (it refuses to run as root).
pub struct PrivatePg {
    pub port: u16,
    dir: PathBuf,
    as_user: Option<&'static str>,
}

impl PrivatePg {
    pub fn start() -> Option<PrivatePg> {
        if !Path::new(PG_BIN).join("initdb").exists() {
            eprintln!(
                "SKIP: {PG_BIN}/initdb is missing; install postgresql-15 to run the PostgreSQL fault test"
            );
            return None;
        }
        let dir = scratch("pg");
        let root = std::fs::read_to_string("/proc/self/status")
            .map(|s| {
                s.lines()
                    .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
            })
            .unwrap_or(false);
        let as_user = root.then_some("postgres");
        if as_user.is_some() {
            let ok = Command::new("chown")
                .arg("-R")
                .arg("postgres")
                .arg(&dir)
                .status()
                .map(|s| s.success());
            assert!(
                matches!(ok, Ok(true)),
                "cannot hand {} to the postgres user",
                dir.display()
            );
        }
        let pg = PrivatePg {
            port: free_port(),
            dir,
            as_user,
        };
        let data = pg.dir.join("data");
        let out = pg.pg(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "--auth=trust",
                "-N",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg.start_server();
        Some(pg)
    }

    fn pg(&self, tool: &str, args: &[&str]) -> std::process::Output {
        let bin = Path::new(PG_BIN).join(tool);
        let mut cmd = match self.as_user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        cmd.args(args).stdin(Stdio::null()).output().unwrap()
    }

    /// `postgres://postgres:<password>@127.0.0.1:<port>/postgres` (trust auth ignores the
    /// password; it is there to prove it is never shown).
    pub fn url(&self, password: &str) -> String {
        format!(
            "postgres://postgres:{password}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    pub fn start_server(&self) {
        let data = self.dir.join("data");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        let out = self.pg(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-o",
                &opts,
                "-l",
                &log.to_string_lossy(),
                "-w",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl stop -m immediate`: the server dies as in a crash.
    pub fn stop_immediate(&self) {
        let data = self.dir.join("data");
        let _ = self.pg(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        self.stop_immediate();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs SQL on a PostgreSQL URL from a thread of its own (the sync client must not run on a
/// tokio worker); returns the rows' first column as text.
pub fn pg_query(url: &str, sql: &str) -> Vec<Option<String>> {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.query(sql.as_str(), &[])
            .unwrap()
            .iter()
            .map(|r| r.get::<_, Option<String>>(0))
            .collect()
    })
    .join()
    .unwrap()
}

/// The shared PostgreSQL's admin URL (`SWITCHYARD_TEST_PG` overrides).
pub fn shared_pg() -> String {
    std::env::var("SWITCHYARD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Fires `n` requests at once, round robin over `urls`.
pub async fn burst(
    urls: &[String],
    secret: &str,
    n: usize,
    max_tokens: u64,
) -> Vec<Option<Answer>> {
    let c = client();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (c, base, secret) = (c.clone(), urls[i % urls.len()].clone(), secret.to_string());
            tokio::spawn(async move { chat(&c, &base, &secret, max_tokens).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.ok().flatten());
    }
    out
}

/// How many answers had `status` (and, if given, the error `code`).
pub fn count(answers: &[Option<Answer>], status: u16, code: Option<&str>) -> usize {
    answers
        .iter()
        .filter(|a| matches!(a, Some(a) if a.status == status && (code.is_none() || a.code.as_deref() == code)))
        .count()
}
