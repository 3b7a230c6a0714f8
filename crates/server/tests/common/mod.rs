//! Test harness: a simulator and a gateway on free loopback ports, in this process.

#![expect(
    clippy::unwrap_used,
    reason = "test harness: a setup failure should fail the test loudly"
)]
#![allow(
    dead_code,
    reason = "each test binary uses a different part of this harness"
)]

pub mod batch;
pub mod dashboard;
pub mod raw;

use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use switchyard_gateway::{Config, Gateway};
use switchyard_ledger::{Record, RecorderHandle};
use switchyard_sim::SimConfig;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SECRET: &str = "sk-test-secret-0123456789";

pub struct Harness {
    pub base: String,
    pub sim: String,
    /// The test's temp dir (`TEST_DIR` in the config text).
    pub dir: PathBuf,
    /// The config as written (`SIM_URL`, `TEST_DIR` replaced), the reload source.
    pub config_file: PathBuf,
    pub gateway: Gateway,
    pub client: switchyard_providers::HttpClient,
    pub ledger: PathBuf,
    recorder: Option<RecorderHandle>,
    stop_gw: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    stop_sim: Option<oneshot::Sender<()>>,
}

pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub fn temp_dir() -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("switchyard-it-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts a sim with `sim_toml` and a gateway whose config is `gateway_toml` with `SIM_URL`
/// replaced by the sim's address and the ledger in a fresh temp dir. The key variable
/// `SIM_KEY` resolves to [`SECRET`].
pub async fn start(sim_toml: &str, gateway_toml: &str) -> Harness {
    start_with(sim_toml, gateway_toml, &[]).await
}

/// The master key [`start_with`] tests use.
pub const MASTER: &str = "sy-master-key-for-tests-0123456789";

/// [`start`] with extra environment variables (e.g. `SWITCHYARD_MASTER_KEY`). The config is
/// also written to `gateway.toml` in the temp dir and set as the reload source, so tests can
/// edit it and `POST /admin/reload`.
pub async fn start_with(sim_toml: &str, gateway_toml: &str, env: &[(&str, &str)]) -> Harness {
    start_in(sim_toml, gateway_toml, env, temp_dir()).await
}

/// [`start_with`] in a given directory: a second gateway started in the first one's `dir`
/// uses its ledger, as a restart does.
pub async fn start_in(
    sim_toml: &str,
    gateway_toml: &str,
    env: &[(&str, &str)],
    dir: PathBuf,
) -> Harness {
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = format!("http://{}", sim_listener.local_addr().unwrap());
    let (stop_sim, sim_stopped) = oneshot::channel::<()>();
    let sim_config = SimConfig::from_toml(sim_toml).unwrap();
    tokio::spawn(switchyard_sim::run(sim_listener, sim_config, async {
        let _ = sim_stopped.await;
    }));
    start_against(sim, Some(stop_sim), gateway_toml, env, dir).await
}

/// A gateway in front of the running sim at `sim` (its stop handle, if this harness is to
/// stop it), in `dir`.
pub async fn start_against(
    sim: String,
    stop_sim: Option<oneshot::Sender<()>>,
    gateway_toml: &str,
    env: &[(&str, &str)],
    dir: PathBuf,
) -> Harness {
    let ledger = dir.join("ledger.db");
    start_on_ledger(sim, stop_sim, gateway_toml, env, (dir, ledger)).await
}

/// [`start_against`] with the ledger at `ledger` (a file or a `postgres://` URL).
pub async fn start_on_ledger(
    sim: String,
    stop_sim: Option<oneshot::Sender<()>>,
    gateway_toml: &str,
    env: &[(&str, &str)],
    (dir, ledger): (PathBuf, PathBuf),
) -> Harness {
    let text = gateway_toml
        .replace("SIM_URL", &sim)
        .replace("TEST_DIR", &dir.display().to_string());
    let mut config = Config::from_toml(&text).unwrap();
    config.ledger.path = ledger.clone();
    // A PostgreSQL ledger's default spool is the working directory: keep it in the test's.
    config
        .ledger
        .spool_dir
        .get_or_insert_with(|| dir.join("switchyard-spool"));
    let vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([("SIM_KEY".to_string(), SECRET.to_string())])
        .collect();
    let lookup: switchyard_gateway::EnvFn = std::sync::Arc::new(move |k: &str| {
        vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    });
    let built = switchyard_evaluation::build(&config, &|k| lookup(k)).unwrap();
    let config_file = dir.join("gateway.toml");
    std::fs::write(&config_file, &text).unwrap();
    let ledger_path = ledger.clone();
    built.gateway.set_reload_source(
        config_file.clone(),
        lookup,
        Some(std::sync::Arc::new(move |c: &mut Config| {
            c.ledger.path = ledger_path.clone();
        })),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_gw, gw_stopped) = oneshot::channel::<()>();
    // The configured grace, but never more than 10 s in a test.
    let grace = config.server.shutdown_grace.min(Duration::from_secs(10));
    let server = tokio::spawn(switchyard_server::run(
        listener,
        built.gateway.clone(),
        async {
            let _ = gw_stopped.await;
        },
        grace,
    ));
    Harness {
        base,
        sim,
        dir,
        config_file,
        gateway: built.gateway,
        client: switchyard_providers::HttpClient::new(&Default::default()).unwrap(),
        ledger,
        recorder: Some(built.recorder),
        stop_gw: Some(stop_gw),
        server: Some(server),
        stop_sim,
    }
}

impl Harness {
    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.post_with(path, body.to_string().into_bytes(), &[])
            .await
    }

    pub async fn post_with(&self, path: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> Answer {
        let r = self
            .client
            .post_json(&format!("{}{path}", self.base), headers, body)
            .await
            .unwrap();
        Answer {
            status: r.status,
            headers: r.headers,
            body: r.body.to_vec(),
        }
    }

    /// Creates a virtual key with the master key (`POST /admin/keys`); its secret.
    pub async fn create_key(&self, spec: &Value) -> String {
        let auth = format!("Bearer {MASTER}");
        let r = self
            .call(
                "POST",
                "/admin/keys",
                &[("authorization", &auth)],
                Some(spec),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["key"].as_str().unwrap().to_string()
    }

    /// Any method, any headers, an optional JSON body; `path` is on the gateway.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut b = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let bytes = body.map(|v| v.to_string()).unwrap_or_default();
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        let r = self
            .client
            .fetch(
                b.body(http_body_util::Full::new(bytes::Bytes::from(bytes)))
                    .unwrap(),
            )
            .await
            .unwrap();
        Answer {
            status: r.status,
            headers: r.headers,
            body: r.body.to_vec(),
        }
    }

    /// Changes how the sim's `model` behaves from now on (`{"error_rate": 1.0}` takes it down).
    pub async fn sim_behaviour(&self, model: &str, patch: &Value) {
        let r = self
            .client
            .fetch(
                http::Request::put(format!("{}/sim/behaviour/{model}", self.sim))
                    .body(http_body_util::Full::new(bytes::Bytes::from(
                        patch.to_string(),
                    )))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    }

    /// Requests the sim served, by model.
    pub async fn sim_count(&self, model: &str) -> u64 {
        let v = self.get(&format!("{}/sim/stats", self.sim)).await.json();
        v[model].as_u64().unwrap_or(0)
    }

    pub async fn get(&self, url: &str) -> Answer {
        let r = self.client.get(url).await.unwrap();
        Answer {
            status: r.status,
            headers: r.headers,
            body: r.body.to_vec(),
        }
    }

    /// Takes the sim's stop handle, so [`Harness::finish`] leaves the sim running (for a
    /// second gateway in front of the same sim, via [`start_against`]).
    pub fn keep_sim(&mut self) -> Option<oneshot::Sender<()>> {
        self.stop_sim.take()
    }

    /// Sends the stop signal (as SIGTERM would) without waiting; [`Harness::finish`] waits.
    pub fn stop(&mut self) {
        if let Some(s) = self.stop_gw.take() {
            let _ = s.send(());
        }
    }

    /// Whether the server has returned from `run` (a stop has completed).
    pub fn server_done(&self) -> bool {
        self.server.as_ref().is_none_or(|s| s.is_finished())
    }

    /// Stops the gateway gracefully and returns every ledger record.
    pub async fn finish(mut self) -> Vec<Record> {
        if let Some(s) = self.stop_gw.take() {
            let _ = s.send(());
        }
        if let Some(s) = self.server.take() {
            s.await.unwrap().unwrap();
        }
        self.gateway.shutdown_eval();
        if let Some(r) = self.recorder.take() {
            r.shutdown();
        }
        if let Some(s) = self.stop_sim.take() {
            let _ = s.send(());
        }
        records(&self.ledger)
    }
}

pub fn records(path: &std::path::Path) -> Vec<Record> {
    let store = switchyard_ledger::Location::from(path)
        .open_existing()
        .unwrap();
    let mut out = Vec::new();
    store
        .scan(None, &mut |r| {
            out.push(r);
            Ok(())
        })
        .unwrap();
    out
}

/// A chat request body.
pub fn chat(model: &str, text: &str) -> Value {
    serde_json::json!({"model": model, "messages": [{"role": "user", "content": text}]})
}

/// The data payloads of an SSE body.
pub fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|ev| {
            ev.lines()
                .find_map(|l| l.strip_prefix("data: "))
                .map(str::to_string)
        })
        .collect()
}
