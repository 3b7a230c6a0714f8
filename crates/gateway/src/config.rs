//! Configuration: TOML parsed section by section into raw structs, then validated into
//! [`Config`]. Every problem is collected and reported at once, each with its key path.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use switchyard_providers::ProviderKind;
use switchyard_router::{BreakerConfig, RetryPolicy, Strategy};

// batch: the `[batch]` section (its own module; see config/batch.rs).
mod batch;
pub use batch::BatchConfig;
// fleet: the `[fleet]` section (shared governance state in Redis; config/fleet.rs).
mod fleet;
pub use fleet::FleetConfig;
// metrics: the `[metrics]` section (the Prometheus endpoint; config/metrics.rs).
mod metrics;
pub use metrics::{DEFAULT_MAX_WORKLOADS, MetricsConfig};
// telemetry: the `[telemetry]` section (OTLP traces; config/telemetry.rs).
mod telemetry;
pub use telemetry::TelemetryConfig;

/// One configuration problem at a key path such as `routes[1].targets[0].provider`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found, grouped by section (server, ledger, catalog, gateway, providers, routes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} configuration error(s):", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub ledger: LedgerConfig,
    pub catalog: CatalogConfig,
    pub providers: Vec<ProviderConfig>,
    pub routes: Vec<RouteConfig>,
    /// Expose every catalog model of every configured provider under its own name.
    pub expose_catalog_models: bool,
    /// `[strategy]`, kept raw: the strategy engine validates it where it is used
    /// (the gateway itself does not read it).
    pub strategy: toml::Table,
    /// `[breaker]`: the circuit breaker every target gets.
    pub breaker: BreakerConfig,
    /// `[admin]`: the master key and the virtual-key poll interval.
    pub admin: AdminConfig,
    /// `[eval]`: the eval store, redaction, shadow-traffic bounds.
    pub eval: EvalConfig,
    /// `[cache]`: the store cache-enabled routes share.
    pub cache: crate::cache::config::StoreConfig,
    /// `[batch]`: the batch API's upload limit, line limit and concurrency.
    pub batch: BatchConfig,
    /// `[fleet]`: budgets, limits and key changes shared through Redis; `None`: in-process.
    pub fleet: Option<FleetConfig>,
    /// `[metrics]`: the Prometheus endpoint; `None`: no `/metrics`.
    pub metrics: Option<MetricsConfig>,
    /// `[telemetry]`: OTLP traces; `None`: no spans.
    pub telemetry: Option<TelemetryConfig>,
}

#[derive(Debug, Clone)]
pub struct EvalConfig {
    /// The eval store; by default `<ledger stem>-eval.db` beside the ledger.
    pub path: Option<PathBuf>,
    /// Captures older than this are deleted.
    pub retention: Duration,
    /// Extra regexes whose matches are masked as `[REDACTED]` before a capture is stored.
    pub redact_patterns: Vec<String>,
    /// Captures waiting to be written; beyond this they are dropped (and counted).
    pub capture_queue: usize,
    /// Shadow calls in flight at once, over all routes; a sampled request beyond it is skipped.
    pub shadow_concurrency: usize,
    /// Shadow spend per UTC day, over all routes; sampling stops once it is reached.
    pub shadow_max_usd_per_day: switchyard_primitives::Money,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            path: None,
            retention: Duration::from_secs(30 * 86_400),
            redact_patterns: Vec::new(),
            capture_queue: 1024,
            shadow_concurrency: 4,
            shadow_max_usd_per_day: switchyard_primitives::Money(rust_decimal::Decimal::from(5)),
        }
    }
}

impl EvalConfig {
    /// Where the eval store is for a ledger at `ledger` (a file path or a URL, as the
    /// result is): `[eval] path` when set; else beside a ledger file, or in the ledger's own
    /// database for a PostgreSQL ledger (so every replica captures into one store).
    pub fn store_path(&self, ledger: &std::path::Path) -> PathBuf {
        self.path.clone().unwrap_or_else(|| {
            if switchyard_ledger::Location::from(ledger).path().is_none() {
                return ledger.to_path_buf();
            }
            let stem = ledger
                .file_stem()
                .map_or_else(|| "switchyard".into(), |s| s.to_string_lossy().into_owned());
            ledger.with_file_name(format!("{stem}-eval.db"))
        })
    }
}

/// `[routes.capture]`: which of a route's requests are stored for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturePolicy {
    /// The share of requests captured (0–1).
    pub rate: f64,
    pub max_per_day: u64,
    /// Only these workloads (empty: any).
    pub workloads: Vec<String>,
    /// Only requests carrying all of these tags (`k=v`, or `k` for any value).
    pub tags: Vec<(String, Option<String>)>,
}

/// `[[routes.shadow]]`: a candidate mirrored a share of the route's traffic.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowConfig {
    pub provider: String,
    pub model: String,
    pub rate: f64,
    pub price_as: Option<(String, String)>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// Environment variable holding the master key; with it unset, `/admin` is disabled.
    pub master_key_env: String,
    /// How often a running gateway looks for key changes made by another process (the CLI).
    pub key_poll: Duration,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            master_key_env: "SWITCHYARD_MASTER_KEY".into(),
            key_poll: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    /// How long a graceful stop waits for in-flight requests.
    pub shutdown_grace: Duration,
    /// After a stop signal, keep answering 503 (and `/readyz` 503) at least this long, so load
    /// balancers see the replica leave before it closes its port.
    pub shutdown_delay: Duration,
    /// A request head (line and headers) must arrive within this, counted from the
    /// connection's accept or the head's first byte.
    pub header_timeout: Duration,
    /// A request body must arrive within this, counted from the end of its head.
    pub body_timeout: Duration,
    /// A keep-alive connection with no request in progress is closed after this.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
}

#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// A file path, `sqlite://path` or `postgres://…` (see [`LedgerConfig::location`]).
    pub path: PathBuf,
    pub batch_size: usize,
    pub flush_interval: Duration,
    /// Where records the store refuses are spooled; `None`: [`LedgerConfig::spool_dir`]'s
    /// default.
    pub spool_dir: Option<PathBuf>,
    /// How long stored Responses API conversations are kept (`responses_retention_hours`,
    /// default 30 days as OpenAI keeps them); expired ones are purged hourly.
    pub responses_retention: Duration,
}

impl LedgerConfig {
    /// The backend `path` names: PostgreSQL for a `postgres://` URL, else the SQLite file.
    pub fn location(&self) -> switchyard_ledger::Location {
        switchyard_ledger::Location::from(self.path.as_path())
    }

    /// The spool directory: as set, else `switchyard-spool` beside a ledger file, or in the
    /// working directory for a PostgreSQL ledger (under systemd, the state directory).
    pub fn spool_dir(&self) -> PathBuf {
        if let Some(d) = &self.spool_dir {
            return d.clone();
        }
        match self.location().path().and_then(std::path::Path::parent) {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join("switchyard-spool"),
            _ => PathBuf::from("switchyard-spool"),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct CatalogConfig {
    pub files: Vec<PathBuf>,
    pub litellm_files: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    /// Environment variable holding the key; `None` for keyless local servers.
    pub api_key_env: Option<String>,
    pub api_version: Option<String>,
    pub deployments: HashMap<String, String>,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Catalog provider whose prices apply (defaults from the kind).
    pub price_provider: Option<String>,
    /// The server speaks OpenAI's Responses API, so `/v1/responses` clients are passed through
    /// untranslated (`responses_api`; default: true for kind `openai`, false otherwise).
    pub responses_api: bool,
}

#[derive(Debug, Clone)]
pub struct RouteConfig {
    pub name: String,
    pub workload: Option<String>,
    pub targets: Vec<TargetConfig>,
    /// Features a cross-dialect target may drop instead of refusing (`"*"`: any).
    pub allow_drop: Vec<String>,
    pub strategy: Strategy,
    pub retry: RetryPolicy,
    pub capture: Option<CapturePolicy>,
    pub shadow: Vec<ShadowConfig>,
    /// Scorer specs (as JSON) applied to shadow results, validated at assembly.
    pub scorers: Vec<serde_json::Value>,
    /// Provider prompt caching (`[routes.prompt_cache]`).
    pub prompt_cache: crate::prompt_cache::PromptCacheConfig,
    /// `strategy = "cascade"`: the checks each tier's answer must pass.
    pub cascade: Option<std::sync::Arc<crate::cascade::CascadePolicy>>,
    /// `[routes.cache]`: the exact response cache; `None` (the default): off.
    pub cache: Option<crate::cache::config::RoutePolicy>,
    /// `batchable = true`: nobody waits on this route's answers, so the savings ledger's
    /// "still on the table" prices its spend at the batch discount. Changes no request.
    pub batchable: bool,
}

#[derive(Debug, Clone)]
pub struct TargetConfig {
    pub provider: String,
    pub model: String,
    pub weight: u32,
    /// Whole-attempt limit; the provider's `timeout_ms` when unset.
    pub timeout: Option<Duration>,
    /// Streams: the first byte must arrive within this.
    pub ttft_timeout: Option<Duration>,
    /// `provider/model` in the catalog, when the upstream name differs from the catalog's.
    pub price_as: Option<(String, String)>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_LEDGER: &str = "./switchyard.db";

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 4 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(30),
            shutdown_delay: Duration::ZERO,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            path: PathBuf::from(DEFAULT_LEDGER),
            batch_size: 512,
            flush_interval: Duration::from_millis(200),
            spool_dir: None,
            responses_retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

// ---- raw, as written ----

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    max_body_bytes: Option<u64>,
    shutdown_grace_ms: Option<u64>,
    shutdown_delay_ms: Option<u64>,
    header_timeout_ms: Option<u64>,
    body_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    max_connections: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLedger {
    path: Option<PathBuf>,
    batch_size: Option<u64>,
    flush_interval_ms: Option<u64>,
    spool_dir: Option<PathBuf>,
    responses_retention_hours: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    files: Vec<PathBuf>,
    #[serde(default)]
    litellm_files: Vec<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    expose_catalog_models: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    kind: String,
    base_url: Option<String>,
    api_key_env: Option<String>,
    api_version: Option<String>,
    #[serde(default)]
    deployments: BTreeMap<String, String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    timeout_ms: Option<u64>,
    connect_timeout_ms: Option<u64>,
    price_provider: Option<String>,
    responses_api: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    name: String,
    workload: Option<String>,
    #[serde(default)]
    allow_drop: Vec<String>,
    strategy: Option<String>,
    retries: Option<u32>,
    retry_backoff_ms: Option<u64>,
    retry_backoff_max_ms: Option<u64>,
    max_retry_after_ms: Option<u64>,
    capture: Option<RawCapture>,
    prompt_cache: Option<crate::prompt_cache::RawPromptCache>,
    #[serde(default)]
    shadow: Vec<RawShadow>,
    #[serde(default)]
    scorers: Vec<toml::Value>,
    cascade: Option<crate::cascade::RawCascade>,
    #[serde(default)]
    targets: Vec<RawTarget>,
    cache: Option<crate::cache::config::RawRoutePolicy>,
    batchable: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapture {
    rate: Option<f64>,
    max_per_day: Option<u64>,
    #[serde(default)]
    workloads: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShadow {
    provider: String,
    model: String,
    rate: Option<f64>,
    price_as: Option<String>,
    timeout_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEval {
    path: Option<PathBuf>,
    retention_days: Option<u64>,
    #[serde(default)]
    redact_patterns: Vec<String>,
    capture_queue: Option<usize>,
    shadow_concurrency: Option<usize>,
    shadow_max_usd_per_day: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    provider: String,
    model: String,
    price_as: Option<String>,
    weight: Option<u32>,
    timeout_ms: Option<u64>,
    ttft_timeout_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBreaker {
    window_s: Option<u64>,
    min_requests: Option<u32>,
    error_ratio: Option<f64>,
    cooldown_s: Option<u64>,
    half_open_probes: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    master_key_env: Option<String>,
    key_poll_ms: Option<u64>,
}

const TOP_LEVEL: &[&str] = &[
    "server",
    "ledger",
    "catalog",
    "gateway",
    "providers",
    "routes",
    "strategy",
    "breaker",
    "admin",
    "eval",
    "cache",
    "batch",
    "fleet",
    "metrics",
    "telemetry",
];

/// Collects errors while walking the document.
struct Errors(Vec<ConfigError>);

impl Errors {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Deserializes one section, recording (not propagating) its error.
    fn section<T: serde::de::DeserializeOwned>(
        &mut self,
        path: &str,
        v: Option<toml::Value>,
    ) -> Option<T> {
        let v = v?;
        match T::deserialize(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.push(path, e.message().to_string());
                None
            }
        }
    }
}

impl Config {
    /// Parses and validates a config file's text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigErrors> {
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            ConfigErrors(vec![ConfigError {
                path: "(file)".into(),
                message: e.to_string(),
            }])
        })?;
        let mut errs = Errors(Vec::new());
        for key in table.keys() {
            if !TOP_LEVEL.contains(&key.as_str()) {
                errs.push(
                    key.clone(),
                    format!("unknown section; expected one of {}", TOP_LEVEL.join(", ")),
                );
            }
        }
        let server: RawServer = errs
            .section("server", table.remove("server"))
            .unwrap_or_default();
        let ledger: RawLedger = errs
            .section("ledger", table.remove("ledger"))
            .unwrap_or_default();
        let catalog: RawCatalog = errs
            .section("catalog", table.remove("catalog"))
            .unwrap_or_default();
        let strategy = match table.remove("strategy") {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => {
                for (k, v) in &t {
                    match (k.as_str(), v) {
                        ("api", toml::Value::Boolean(_)) | ("effort", toml::Value::Table(_)) => {}
                        ("api", _) => errs.push("strategy.api", "must be true or false"),
                        ("effort", _) => {
                            errs.push("strategy.effort", "must be a table: [strategy.effort]")
                        }
                        _ => errs.push(
                            format!("strategy.{k}"),
                            "unknown key; expected api or effort",
                        ),
                    }
                }
                t
            }
            Some(_) => {
                errs.push("strategy", "must be a table: [strategy]");
                toml::Table::new()
            }
        };
        let gateway: RawGateway = errs
            .section("gateway", table.remove("gateway"))
            .unwrap_or_default();
        let breaker: RawBreaker = errs
            .section("breaker", table.remove("breaker"))
            .unwrap_or_default();
        let admin: RawAdmin = errs
            .section("admin", table.remove("admin"))
            .unwrap_or_default();
        let eval: RawEval = errs
            .section("eval", table.remove("eval"))
            .unwrap_or_default();
        let cache: crate::cache::config::RawStore = errs
            .section("cache", table.remove("cache"))
            .unwrap_or_default();
        let batch: batch::RawBatch = errs
            .section("batch", table.remove("batch"))
            .unwrap_or_default();
        let fleet_raw: Option<fleet::RawFleet> = errs.section("fleet", table.remove("fleet"));
        let metrics_raw: Option<metrics::RawMetrics> =
            errs.section("metrics", table.remove("metrics"));
        let telemetry_raw: Option<telemetry::RawTelemetry> =
            errs.section("telemetry", table.remove("telemetry"));

        let mut providers = Vec::new();
        // Every declared name, valid or not, so a route naming a broken provider is not also
        // reported as naming a missing one.
        let mut declared = Vec::new();
        match table.remove("providers") {
            None => {}
            Some(toml::Value::Table(t)) => {
                for (name, v) in t {
                    declared.push(name.clone());
                    let path = format!("providers.{name}");
                    if let Some(raw) = errs.section::<RawProvider>(&path, Some(v)) {
                        if let Some(p) = validate_provider(&mut errs, &path, name, raw) {
                            providers.push(p);
                        }
                    }
                }
            }
            Some(_) => errs.push(
                "providers",
                "must be a table of named providers: [providers.NAME]",
            ),
        }

        let mut routes = Vec::new();
        match table.remove("routes") {
            None => {}
            Some(toml::Value::Array(items)) => {
                for (i, v) in items.into_iter().enumerate() {
                    let path = format!("routes[{i}]");
                    if let Some(raw) = errs.section::<RawRoute>(&path, Some(v)) {
                        routes.push(validate_route(&mut errs, &path, raw, &declared));
                    }
                }
            }
            Some(_) => errs.push("routes", "must be an array of tables: [[routes]]"),
        }
        let names: Vec<&str> = routes.iter().map(|r| r.name.as_str()).collect();
        let semantic = routes.iter().enumerate().map(|(i, r)| {
            let policy = r.cache.as_ref().and_then(|c| c.semantic.as_ref());
            (format!("routes[{i}]"), policy)
        });
        crate::cache::semantic_config::check_embedders(&mut errs.0, semantic, &names);
        let kinds: Vec<(&str, bool)> = routes
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    matches!(r.strategy, Strategy::Cascade { .. }),
                )
            })
            .collect();
        let cascades = routes
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("routes[{i}]"), r.cascade.as_deref()));
        crate::cascade::check_judge_routes(&mut errs.0, cascades, &kinds);
        let mut seen = HashSet::new();
        for (i, r) in routes.iter().enumerate() {
            if !seen.insert(r.name.clone()) {
                errs.push(
                    format!("routes[{i}].name"),
                    format!("route {:?} is defined twice", r.name),
                );
            }
        }

        let server = validate_server(&mut errs, server);
        let config = Config {
            metrics: metrics::validate(&mut errs, metrics_raw, server.listen),
            telemetry: telemetry::validate(&mut errs, telemetry_raw),
            server,
            ledger: validate_ledger(&mut errs, ledger),
            catalog: CatalogConfig {
                files: catalog.files,
                litellm_files: catalog.litellm_files,
            },
            expose_catalog_models: gateway.expose_catalog_models.unwrap_or(false),
            strategy,
            breaker: validate_breaker(&mut errs, breaker),
            admin: validate_admin(&mut errs, admin),
            eval: validate_eval(&mut errs, eval),
            cache: crate::cache::config::validate_store(&mut errs.0, cache),
            batch: batch::validate(&mut errs, batch),
            fleet: fleet::validate(&mut errs, fleet_raw),
            providers,
            routes,
        };
        if errs.0.is_empty() {
            Ok(config)
        } else {
            Err(ConfigErrors(errs.0))
        }
    }

    /// Reports every key a provider names, and the metrics token, that is missing from the
    /// environment.
    pub fn missing_env(&self, env: &dyn Fn(&str) -> Option<String>) -> Vec<ConfigError> {
        let token = self.metrics.as_ref().and_then(|m| m.token_env.as_ref());
        let token = token.and_then(|var| {
            env(var).filter(|v| !v.trim().is_empty()).is_none().then(|| ConfigError {
                path: "metrics.token_env".into(),
                message: format!("environment variable {var} is not set; export it with the token scrapers will send, or remove token_env to serve /metrics without one"),
            })
        });
        self.providers
            .iter()
            .filter_map(|p| {
                let var = p.api_key_env.as_ref()?;
                env(var).filter(|v| !v.trim().is_empty()).is_none().then(|| ConfigError {
                    path: format!("providers.{}.api_key_env", p.name),
                    message: format!("environment variable {var} is not set; export it with the provider's API key"),
                })
            })
            .chain(token)
            .chain(self.telemetry.iter().flat_map(|t| telemetry::missing_env(t, env)))
            .collect()
    }

    /// Embedded defaults: providers detected from their standard environment variables, every
    /// catalog model of a detected provider reachable by its own name, the ledger in
    /// `./switchyard.db`.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Config {
        let set = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let mut providers = Vec::new();
        let make = |kind: ProviderKind, base_url: String, key_env: Option<&str>| ProviderConfig {
            name: kind.as_str().to_string(),
            kind,
            base_url,
            api_key_env: key_env.map(str::to_string),
            api_version: None,
            deployments: HashMap::new(),
            headers: Vec::new(),
            timeout: default_timeout(),
            connect_timeout: default_connect_timeout(),
            price_provider: None,
            responses_api: kind == ProviderKind::OpenAi,
        };
        for kind in [
            ProviderKind::OpenAi,
            ProviderKind::Anthropic,
            ProviderKind::Gemini,
            ProviderKind::Mistral,
            ProviderKind::Groq,
            ProviderKind::DeepSeek,
            ProviderKind::Together,
        ] {
            let Some(mut var) = kind.default_key_env() else {
                continue;
            };
            // Google's own SDKs also read GOOGLE_API_KEY; GEMINI_API_KEY wins when both are set.
            if kind == ProviderKind::Gemini && set(var).is_none() && set("GOOGLE_API_KEY").is_some()
            {
                var = "GOOGLE_API_KEY";
            }
            if set(var).is_some() {
                let base = match kind {
                    ProviderKind::OpenAi => set("OPENAI_BASE_URL"),
                    _ => None,
                };
                let base = base
                    .or_else(|| kind.default_base_url().map(str::to_string))
                    .unwrap_or_default();
                providers.push(make(kind, base, Some(var)));
            }
        }
        if let (Some(_), Some(endpoint)) =
            (set("AZURE_OPENAI_API_KEY"), set("AZURE_OPENAI_ENDPOINT"))
        {
            let mut p = make(ProviderKind::Azure, endpoint, Some("AZURE_OPENAI_API_KEY"));
            p.api_version = set("OPENAI_API_VERSION").or(Some(DEFAULT_AZURE_API_VERSION.into()));
            providers.push(p);
        }
        if let Some(host) = set("OLLAMA_HOST") {
            let base = if host.starts_with("http") {
                host
            } else {
                format!("http://{host}")
            };
            providers.push(make(
                ProviderKind::Ollama,
                format!("{}/v1", base.trim_end_matches('/')),
                None,
            ));
        }
        Config {
            server: ServerConfig::default(),
            ledger: LedgerConfig::default(),
            catalog: CatalogConfig::default(),
            providers,
            routes: Vec::new(),
            expose_catalog_models: true,
            strategy: toml::Table::new(),
            breaker: BreakerConfig::default(),
            admin: AdminConfig::default(),
            eval: EvalConfig::default(),
            cache: Default::default(),
            batch: BatchConfig::default(),
            fleet: None,
            metrics: None,
            telemetry: None,
        }
    }
}

pub const DEFAULT_AZURE_API_VERSION: &str = "2024-10-21";

fn default_timeout() -> Duration {
    Duration::from_secs(600)
}

fn default_connect_timeout() -> Duration {
    Duration::from_secs(10)
}

fn validate_breaker(errs: &mut Errors, b: RawBreaker) -> BreakerConfig {
    let mut out = BreakerConfig::default();
    match b.window_s {
        Some(0) => errs.push("breaker.window_s", "must be at least 1"),
        Some(s) if s > 3600 => errs.push("breaker.window_s", "must be at most 3600"),
        Some(s) => out.window = Duration::from_secs(s),
        None => {}
    }
    match b.min_requests {
        Some(0) => errs.push("breaker.min_requests", "must be at least 1"),
        Some(n) => out.min_requests = n,
        None => {}
    }
    match b.error_ratio {
        Some(r) if !(r > 0.0 && r <= 1.0) => errs.push(
            "breaker.error_ratio",
            "must be above 0 and at most 1 (0.5 = half)",
        ),
        Some(r) => out.error_ratio = r,
        None => {}
    }
    match b.cooldown_s {
        Some(0) => errs.push("breaker.cooldown_s", "must be at least 1"),
        Some(s) => out.cooldown = Duration::from_secs(s),
        None => {}
    }
    match b.half_open_probes {
        Some(0) => errs.push("breaker.half_open_probes", "must be at least 1"),
        Some(n) => out.half_open_probes = n,
        None => {}
    }
    out
}

fn validate_eval(errs: &mut Errors, e: RawEval) -> EvalConfig {
    let mut out = EvalConfig {
        path: e.path,
        redact_patterns: e.redact_patterns,
        ..EvalConfig::default()
    };
    match e.retention_days {
        Some(0) => errs.push("eval.retention_days", "must be at least 1"),
        Some(d) => out.retention = Duration::from_secs(d * 86_400),
        None => {}
    }
    match e.capture_queue {
        Some(0) => errs.push("eval.capture_queue", "must be at least 1"),
        Some(n) => out.capture_queue = n,
        None => {}
    }
    match e.shadow_concurrency {
        Some(0) => errs.push("eval.shadow_concurrency", "must be at least 1"),
        Some(n) => out.shadow_concurrency = n,
        None => {}
    }
    if let Some(v) = e.shadow_max_usd_per_day {
        match v.parse::<switchyard_primitives::Money>() {
            Ok(m) if m.0 >= rust_decimal::Decimal::ZERO => out.shadow_max_usd_per_day = m,
            _ => errs.push(
                "eval.shadow_max_usd_per_day",
                format!("{v:?} must be an amount in USD written as a string, e.g. \"5.00\""),
            ),
        }
    }
    out
}

fn fraction(errs: &mut Errors, path: String, v: Option<f64>, default: f64) -> f64 {
    match v {
        None => default,
        Some(r) if (0.0..=1.0).contains(&r) => r,
        Some(_) => {
            errs.push(path, "must be between 0 and 1 (0.1 = one request in ten)");
            default
        }
    }
}

fn parse_price_as(errs: &mut Errors, path: String, v: Option<String>) -> Option<(String, String)> {
    let s = v?;
    match s.split_once('/') {
        Some((p, m)) if !p.is_empty() && !m.is_empty() => Some((p.to_string(), m.to_string())),
        _ => {
            errs.push(
                path,
                format!("{s:?} must be \"provider/model\" as in `switchyard catalog list`"),
            );
            None
        }
    }
}

fn validate_admin(errs: &mut Errors, a: RawAdmin) -> AdminConfig {
    let mut out = AdminConfig::default();
    if let Some(v) = a.master_key_env {
        if v.is_empty() || v.contains(['=', ' ']) || v.starts_with("sk-") {
            errs.push(
                "admin.master_key_env",
                "must name an environment variable (e.g. \"SWITCHYARD_MASTER_KEY\"), never the key itself",
            );
        } else {
            out.master_key_env = v;
        }
    }
    match a.key_poll_ms {
        Some(ms) if ms < 100 => errs.push("admin.key_poll_ms", "must be at least 100"),
        Some(ms) => out.key_poll = Duration::from_millis(ms),
        None => {}
    }
    out
}

fn validate_server(errs: &mut Errors, s: RawServer) -> ServerConfig {
    let mut out = ServerConfig::default();
    if let Some(l) = s.listen {
        match l.parse() {
            Ok(a) => out.listen = a,
            Err(_) => errs.push(
                "server.listen",
                format!("{l:?} is not an address; write it like \"127.0.0.1:8080\""),
            ),
        }
    }
    if let Some(b) = s.max_body_bytes {
        if b < 1024 {
            errs.push("server.max_body_bytes", "must be at least 1024");
        } else {
            out.max_body_bytes = b as usize;
        }
    }
    if let Some(ms) = s.shutdown_grace_ms {
        out.shutdown_grace = Duration::from_millis(ms);
    }
    if let Some(ms) = s.shutdown_delay_ms {
        out.shutdown_delay = Duration::from_millis(ms);
    }
    let timeouts = [
        (
            "server.header_timeout_ms",
            s.header_timeout_ms,
            &mut out.header_timeout,
        ),
        (
            "server.body_timeout_ms",
            s.body_timeout_ms,
            &mut out.body_timeout,
        ),
        (
            "server.idle_timeout_ms",
            s.idle_timeout_ms,
            &mut out.idle_timeout,
        ),
    ];
    for (path, raw, slot) in timeouts {
        match raw {
            Some(0) => errs.push(
                path,
                "must be at least 1; a slow client would otherwise hold its connection forever",
            ),
            Some(ms) => *slot = Duration::from_millis(ms),
            None => {}
        }
    }
    match s.max_connections {
        Some(0) => errs.push("server.max_connections", "must be at least 1"),
        Some(n) => out.max_connections = usize::try_from(n).unwrap_or(usize::MAX),
        None => {}
    }
    out
}

fn validate_ledger(errs: &mut Errors, l: RawLedger) -> LedgerConfig {
    let mut out = LedgerConfig::default();
    if let Some(p) = l.path {
        out.path = p;
    }
    match l.batch_size {
        Some(0) => errs.push("ledger.batch_size", "must be at least 1"),
        Some(n) => out.batch_size = n as usize,
        None => {}
    }
    match l.flush_interval_ms {
        Some(0) => errs.push("ledger.flush_interval_ms", "must be at least 1"),
        Some(ms) => out.flush_interval = Duration::from_millis(ms),
        None => {}
    }
    match l.spool_dir {
        Some(d) if d.as_os_str().is_empty() => errs.push(
            "ledger.spool_dir",
            "must name a directory (leave it out for the default beside the ledger)",
        ),
        d => out.spool_dir = d,
    }
    match l.responses_retention_hours {
        Some(0) => errs.push(
            "ledger.responses_retention_hours",
            "must be at least 1 (send `store: false` to keep nothing)",
        ),
        Some(h) => out.responses_retention = Duration::from_secs(h.saturating_mul(3600)),
        None => {}
    }
    out
}

fn validate_provider(
    errs: &mut Errors,
    path: &str,
    name: String,
    raw: RawProvider,
) -> Option<ProviderConfig> {
    let before = errs.0.len();
    let kind = match raw.kind.parse::<ProviderKind>() {
        Ok(k) => Some(k),
        Err(e) => {
            errs.push(format!("{path}.kind"), e);
            None
        }
    };
    let base_url = raw
        .base_url
        .or_else(|| kind.and_then(|k| k.default_base_url()).map(str::to_string));
    match &base_url {
        None => errs.push(
            format!("{path}.base_url"),
            "is required for this kind (e.g. \"http://127.0.0.1:8000/v1\")",
        ),
        Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => {
            errs.push(
                format!("{path}.base_url"),
                format!("{u:?} must start with http:// or https://"),
            );
        }
        _ => {}
    }
    let api_key_env = raw
        .api_key_env
        .or_else(|| kind.and_then(|k| k.default_key_env()).map(str::to_string));
    if let Some(v) = &api_key_env {
        if v.is_empty() || v.contains(['=', ' ']) || v.starts_with("sk-") {
            errs.push(
                format!("{path}.api_key_env"),
                "must name an environment variable (e.g. \"OPENAI_API_KEY\"), never the key itself",
            );
        }
    }
    if raw.timeout_ms == Some(0) {
        errs.push(format!("{path}.timeout_ms"), "must be at least 1");
    }
    if raw.connect_timeout_ms == Some(0) {
        errs.push(format!("{path}.connect_timeout_ms"), "must be at least 1");
    }
    if kind != Some(ProviderKind::Azure) {
        if raw.api_version.is_some() {
            errs.push(
                format!("{path}.api_version"),
                "applies only to kind = \"azure\"",
            );
        }
        if !raw.deployments.is_empty() {
            errs.push(
                format!("{path}.deployments"),
                "applies only to kind = \"azure\"",
            );
        }
    }
    // Azure's Responses API lives under another URL scheme than its deployments.
    let chat_only = matches!(
        kind,
        Some(ProviderKind::Anthropic | ProviderKind::Gemini | ProviderKind::Azure)
    );
    if raw.responses_api == Some(true) && chat_only {
        errs.push(
            format!("{path}.responses_api"),
            "applies only to OpenAI-dialect kinds other than azure (openai, openai-compatible, mistral, …)",
        );
    }
    if errs.0.len() > before {
        return None;
    }
    let kind = kind?;
    Some(ProviderConfig {
        responses_api: raw.responses_api.unwrap_or(kind == ProviderKind::OpenAi),
        name,
        kind,
        base_url: base_url.unwrap_or_default(),
        api_key_env,
        api_version: (kind == ProviderKind::Azure).then(|| {
            raw.api_version
                .unwrap_or_else(|| DEFAULT_AZURE_API_VERSION.into())
        }),
        deployments: raw.deployments.into_iter().collect(),
        headers: raw.headers.into_iter().collect(),
        timeout: raw
            .timeout_ms
            .map_or_else(default_timeout, Duration::from_millis),
        connect_timeout: raw
            .connect_timeout_ms
            .map_or_else(default_connect_timeout, Duration::from_millis),
        price_provider: raw.price_provider,
    })
}

fn validate_route(
    errs: &mut Errors,
    path: &str,
    raw: RawRoute,
    providers: &[String],
) -> RouteConfig {
    if raw.name.trim().is_empty() {
        errs.push(format!("{path}.name"), "must not be empty");
    }
    if raw.targets.is_empty() {
        errs.push(
            format!("{path}.targets"),
            "a route needs at least one [[routes.targets]]",
        );
    }
    let mut targets = Vec::new();
    for (j, t) in raw.targets.into_iter().enumerate() {
        let tpath = format!("{path}.targets[{j}]");
        if !providers.contains(&t.provider) {
            let names: Vec<_> = providers.iter().map(String::as_str).collect();
            errs.push(
                format!("{tpath}.provider"),
                format!(
                    "no provider named {:?}; configured: [{}]",
                    t.provider,
                    names.join(", ")
                ),
            );
        }
        if t.model.trim().is_empty() {
            errs.push(format!("{tpath}.model"), "must not be empty");
        }
        let price_as = match t.price_as {
            None => None,
            Some(s) => match s.split_once('/') {
                Some((p, m)) if !p.is_empty() && !m.is_empty() => {
                    Some((p.to_string(), m.to_string()))
                }
                _ => {
                    errs.push(
                        format!("{tpath}.price_as"),
                        format!("{s:?} must be \"provider/model\" as in `switchyard catalog list`"),
                    );
                    None
                }
            },
        };
        for (key, v) in [
            ("timeout_ms", t.timeout_ms),
            ("ttft_timeout_ms", t.ttft_timeout_ms),
        ] {
            if v == Some(0) {
                errs.push(format!("{tpath}.{key}"), "must be at least 1");
            }
        }
        targets.push(TargetConfig {
            provider: t.provider,
            model: t.model,
            price_as,
            weight: t.weight.unwrap_or(1),
            timeout: t.timeout_ms.map(Duration::from_millis),
            ttft_timeout: t.ttft_timeout_ms.map(Duration::from_millis),
        });
    }
    let mut strategy = match raw.strategy.as_deref() {
        None => Strategy::Fallback,
        Some(s) => Strategy::parse(s).unwrap_or_else(|| {
            errs.push(
                format!("{path}.strategy"),
                format!("{s:?} is not a strategy; expected fallback, weighted, least-latency, lowest-cost or cascade"),
            );
            Strategy::Fallback
        }),
    };
    let cascade = crate::cascade::configure(path, raw.cascade, &mut strategy, targets.len())
        .map_err(|problems| {
            for (p, m) in problems {
                errs.push(p, m);
            }
        })
        .ok()
        .flatten();
    if strategy == Strategy::Weighted && targets.iter().all(|t| t.weight == 0) {
        errs.push(
            format!("{path}.targets"),
            "a weighted route needs at least one target with weight above 0",
        );
    }
    let mut retry = RetryPolicy::default();
    if let Some(n) = raw.retries {
        if n > 10 {
            errs.push(format!("{path}.retries"), "must be at most 10");
        } else {
            retry.retries = n;
        }
    }
    if let Some(ms) = raw.retry_backoff_ms {
        retry.backoff_base = Duration::from_millis(ms);
    }
    if let Some(ms) = raw.retry_backoff_max_ms {
        retry.backoff_max = Duration::from_millis(ms);
    }
    if retry.backoff_max < retry.backoff_base {
        errs.push(
            format!("{path}.retry_backoff_max_ms"),
            "must not be below retry_backoff_ms",
        );
    }
    if let Some(ms) = raw.max_retry_after_ms {
        retry.max_retry_after = Duration::from_millis(ms);
    }
    let capture = raw.capture.map(|c| CapturePolicy {
        rate: fraction(errs, format!("{path}.capture.rate"), c.rate, 1.0),
        max_per_day: c.max_per_day.unwrap_or(1000),
        workloads: c.workloads,
        tags: c
            .tags
            .iter()
            .map(|t| match t.split_once('=') {
                Some((k, v)) => (k.trim().to_string(), Some(v.trim().to_string())),
                None => (t.trim().to_string(), None),
            })
            .collect(),
    });
    let mut shadow = Vec::new();
    for (j, s) in raw.shadow.into_iter().enumerate() {
        let spath = format!("{path}.shadow[{j}]");
        if !providers.contains(&s.provider) {
            errs.push(
                format!("{spath}.provider"),
                format!("no provider named {:?}", s.provider),
            );
        }
        if s.timeout_ms == Some(0) {
            errs.push(format!("{spath}.timeout_ms"), "must be at least 1");
        }
        shadow.push(ShadowConfig {
            rate: fraction(errs, format!("{spath}.rate"), s.rate, 0.1),
            price_as: parse_price_as(errs, format!("{spath}.price_as"), s.price_as),
            timeout: Duration::from_millis(s.timeout_ms.unwrap_or(60_000)),
            provider: s.provider,
            model: s.model,
        });
    }
    let scorers = raw
        .scorers
        .into_iter()
        .filter_map(|v| serde_json::to_value(v).ok())
        .collect();
    let prompt_cache = match raw
        .prompt_cache
        .map(|p| p.validate(&format!("{path}.prompt_cache")))
    {
        None => Default::default(),
        Some(Ok(p)) => p,
        Some(Err((field, message))) => {
            errs.push(field, message);
            Default::default()
        }
    };
    let cache = raw
        .cache
        .and_then(|c| crate::cache::config::validate_route(&mut errs.0, path, c));
    RouteConfig {
        name: raw.name,
        workload: raw.workload,
        targets,
        allow_drop: raw.allow_drop,
        strategy,
        retry,
        capture,
        shadow,
        scorers,
        prompt_cache,
        cascade,
        cache,
        batchable: raw.batchable.unwrap_or(false),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
