//! Assembly: config → providers, routes, catalog, ledger and recorder.

use crate::cache::agreement::Agreement;
use crate::config::{Config, ConfigError, ProviderConfig};
use crate::observe::{Observer, RouteView};
use crate::{Gateway, Inner, Live, RouteMeta, TargetMeta};
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};
use switchyard_catalog::{Catalog, ModelEntry};
use switchyard_ledger::{Recorder, RecorderConfig, RecorderHandle};
use switchyard_primitives::Secret;
use switchyard_providers::{
    Anthropic, AnthropicSettings, AzureSettings, Gemini, GeminiSettings, HttpSettings,
    OpenAiCompatible, OpenAiSettings, Provider, ProviderKind,
};
use switchyard_router::{
    HealthRegistry, Profile, RetryPolicy, Route, RouteTable, Strategy, Target,
};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Config(#[from] crate::ConfigErrors),
    #[error("catalog: {0}")]
    Catalog(#[from] switchyard_catalog::CatalogError),
    #[error("ledger: {0}")]
    Ledger(#[from] switchyard_ledger::LedgerError),
    #[error("{0}")]
    Other(String),
}

/// A gateway and the handle that owns its ledger writer (shut it down last).
pub struct Built {
    pub gateway: Gateway,
    pub recorder: RecorderHandle,
}

/// Everything but the ledger: what `config check` validates without touching any file.
struct Parts {
    catalog: Arc<Catalog>,
    routes: Vec<Route<TargetMeta>>,
    meta: HashMap<String, RouteMeta>,
}

impl Gateway {
    /// Checks a configuration as `build` would — keys present, catalog loadable, providers
    /// constructible, `price_as` entries known — without opening the ledger.
    pub fn check(
        config: &Config,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<usize, BuildError> {
        Self::check_with(config, env, None)
    }

    /// [`Gateway::check`] with the observer the gateway would be built with, so its settings
    /// (capture, shadow, scorers) are checked too.
    pub fn check_with(
        config: &Config,
        env: &dyn Fn(&str) -> Option<String>,
        observer: Option<&dyn Observer>,
    ) -> Result<usize, BuildError> {
        assemble(config, env, &HealthRegistry::default(), observer).map(|p| p.routes.len())
    }

    /// Assembles a gateway without an observer: a config that captures or shadows is refused.
    /// `env` resolves the key variables the config names.
    pub fn build(
        config: &Config,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Built, BuildError> {
        Self::build_with(config, env, None)
    }

    /// Assembles a gateway with `observer` (evaluation) installed for its whole life.
    pub fn build_with(
        config: &Config,
        env: &dyn Fn(&str) -> Option<String>,
        observer: Option<Arc<dyn Observer>>,
    ) -> Result<Built, BuildError> {
        let health = HealthRegistry::default();
        let Parts {
            catalog,
            routes,
            meta,
        } = assemble(config, env, &health, observer.as_deref())?;
        let location = config.ledger.location();
        let (recorder, handle) = Recorder::spawn(
            location.open_sink()?,
            RecorderConfig {
                batch_size: config.ledger.batch_size,
                flush_interval: config.ledger.flush_interval,
                spool_dir: Some(config.ledger.spool_dir()),
            },
        )
        .map_err(|e| BuildError::Other(format!("cannot start the ledger writer: {e}")))?;
        let governance = crate::governance::Governance::open(&location, config.fleet.as_ref())
            .map_err(|e| BuildError::Other(format!("virtual keys: {e}")))?;
        let cache_store =
            switchyard_cache::open(config.cache.url.as_deref(), config.cache.max_bytes)
                .map_err(|e| BuildError::Other(format!("cache.url: {e}")))?;
        let metrics = crate::metrics::start(config, env);
        let traces = crate::traces::start(config, env);
        let metrics_tap = metrics.as_ref().map(|m| m.metrics.tap());
        if let Some(tap) = crate::traces::tap(metrics_tap, traces.as_ref()) {
            recorder.tap(tap);
        }
        let conversations =
            crate::conversations::Conversations::open(&location, config.ledger.responses_retention)
                .map_err(|e| BuildError::Other(format!("stored responses: {e}")))?;
        let gateway = Gateway {
            inner: Arc::new(Inner {
                live: RwLock::new(Arc::new(Live {
                    routes: RouteTable::new(routes),
                    route_meta: meta,
                    catalog,
                    strategy_api: strategy_api(config),
                    generation: 1,
                    master_key: master_key(config, env),
                    key_poll: config.admin.key_poll,
                    any_cache: config.routes.iter().any(|r| r.cache.is_some()),
                })),
                health,
                recorder,
                server: config.server.clone(),
                batch: config.batch.clone(),
                ledger_path: config.ledger.path.clone(),
                listen: config.server.listen,
                eval_store: config.eval.store_path(&config.ledger.path),
                accepting: AtomicBool::new(true),
                source: std::sync::Mutex::new(None),
                governance,
                observer,
                cache: RwLock::new(Some(crate::cache::Shared::new(cache_store))),
                semantic_embedders: RwLock::default(),
                cache_config: config.cache.clone(),
                fleet_config: config.fleet.clone(),
                metrics,
                conversations,
                traces,
            }),
        };
        gateway.configure_metrics();
        gateway.start_observer(config)?;
        Ok(Built {
            gateway,
            recorder: handle,
        })
    }

    /// Swaps in a new configuration. Requests already routed finish on the old one; an
    /// invalid config changes nothing. `server.*` and `ledger.*` need a restart: a change
    /// there is reported in the returned notes and otherwise ignored.
    pub fn reload(
        &self,
        config: &Config,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Reloaded, BuildError> {
        let Parts {
            catalog,
            routes,
            mut meta,
        } = assemble(
            config,
            env,
            &self.inner.health,
            self.inner.observer.as_deref(),
        )?;
        let kept = crate::cache::reload::keep_indexes(&self.live().route_meta, &mut meta);
        if !kept.is_empty() {
            tracing::info!(routes = ?kept, "semantic cache indexes kept across the reload");
        }
        let mut notes = Vec::new();
        if config.server.listen != self.inner.listen {
            notes.push(format!(
                "server.listen changed to {}; still listening on {} until a restart",
                config.server.listen, self.inner.listen
            ));
        }
        if config.ledger.path != self.inner.ledger_path {
            notes.push(format!(
                "ledger.path changed to {}; still writing {} until a restart",
                config.ledger.path.display(),
                self.inner.ledger_path.display()
            ));
        }
        if config.fleet != self.inner.fleet_config {
            notes.push(
                "[fleet] takes effect at the next restart; the current fleet settings are kept"
                    .into(),
            );
        }
        if config.cache != self.inner.cache_config {
            notes.push(
                "cache.url and cache.max_bytes take effect at the next restart; the current store is kept"
                    .into(),
            );
        }
        if server_options_changed(&config.server, &self.inner.server) {
            notes.push(
                "server.max_body_bytes, the server timeouts and max_connections take effect at the next restart"
                    .into(),
            );
        }
        self.start_observer(config)?;
        let mut slot = self.inner.live.write().unwrap_or_else(|p| p.into_inner());
        let generation = slot.generation + 1;
        let routes = RouteTable::new(routes);
        let count = routes.names().len();
        *slot = Arc::new(Live {
            routes,
            route_meta: meta,
            catalog,
            strategy_api: strategy_api(config),
            generation,
            master_key: master_key(config, env),
            key_poll: config.admin.key_poll,
            any_cache: config.routes.iter().any(|r| r.cache.is_some()),
        });
        drop(slot);
        self.configure_metrics();
        if config.metrics != self.metrics_config().cloned() {
            notes.push(
                "[metrics] takes effect at the next restart; the current endpoint is kept".into(),
            );
        }
        Ok(Reloaded {
            generation,
            routes: count,
            notes,
        })
    }
}

impl Gateway {
    /// Lets the observer open what this config needs (the eval store, the first time a config
    /// captures or shadows) before the config goes live.
    fn start_observer(&self, config: &Config) -> Result<(), BuildError> {
        match &self.inner.observer {
            Some(o) => o
                .start(config, &self.inner.recorder)
                .map_err(|e| BuildError::Other(format!("eval store: {e}"))),
            None => Ok(()),
        }
    }
}

/// What a reload changed.
#[derive(Debug, Clone)]
pub struct Reloaded {
    pub generation: u64,
    pub routes: usize,
    /// Settings that changed but need a restart.
    pub notes: Vec<String>,
}

/// The master key, when its variable is set to something long enough to be a secret.
fn master_key(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Option<Secret> {
    let key = env(&config.admin.master_key_env)?;
    let key = key.trim();
    if key.len() < 16 {
        tracing::warn!(
            var = %config.admin.master_key_env,
            "the master key is shorter than 16 characters; the admin API stays disabled"
        );
        return None;
    }
    Some(Secret::new(key.to_string()))
}

fn strategy_api(config: &Config) -> bool {
    config
        .strategy
        .get("api")
        .and_then(toml::Value::as_bool)
        .unwrap_or(false)
}

fn assemble(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
    health: &HealthRegistry,
    observer: Option<&dyn Observer>,
) -> Result<Parts, BuildError> {
    let missing = config.missing_env(env);
    if !missing.is_empty() {
        return Err(crate::ConfigErrors(missing).into());
    }
    let catalog = Arc::new(Catalog::load(
        &config.catalog.files,
        &config.catalog.litellm_files,
    )?);
    let mut problems: Vec<ConfigError> = Vec::new();
    // One connection pool per distinct connect timeout (usually just one).
    let mut clients: HashMap<std::time::Duration, switchyard_providers::HttpClient> =
        HashMap::new();
    for p in &config.providers {
        if let std::collections::hash_map::Entry::Vacant(slot) = clients.entry(p.connect_timeout) {
            let settings = HttpSettings {
                connect_timeout: p.connect_timeout,
                ..HttpSettings::default()
            };
            slot.insert(
                switchyard_providers::HttpClient::new(&settings).map_err(BuildError::Other)?,
            );
        }
    }
    let providers: HashMap<String, (Arc<dyn Provider>, &ProviderConfig)> = config
        .providers
        .iter()
        .filter_map(|p| {
            let client = clients.get(&p.connect_timeout)?.clone();
            Some((p, client))
        })
        .filter_map(|(p, client)| match make_provider(p, env, client) {
            Ok(made) => Some((p.name.clone(), (made, p))),
            Err(message) => {
                problems.push(ConfigError {
                    path: format!("providers.{}", p.name),
                    message,
                });
                None
            }
        })
        .collect();

    let mut routes: Vec<Route<TargetMeta>> = Vec::new();
    let mut meta = HashMap::new();
    for (i, r) in config.routes.iter().enumerate() {
        let targets = r
                .targets
                .iter()
                .enumerate()
                .filter_map(|(j, t)| {
                    let (provider, pc) = providers.get(&t.provider)?;
                    let pricing = match &t.price_as {
                        Some((p, m)) => {
                            let found = catalog.get(p, m).cloned();
                            if found.is_none() {
                                problems.push(ConfigError {
                                    path: format!("routes[{i}].targets[{j}].price_as"),
                                    message: format!("{p}/{m} is not in the catalog; `switchyard catalog list` shows what is"),
                                });
                            }
                            found
                        }
                        None => price_entry(&catalog, pc, &t.model),
                    };
                    Some(Target {
                        provider: provider.clone(),
                        model: t.model.clone(),
                        weight: t.weight,
                        timeout: t.timeout,
                        ttft_timeout: t.ttft_timeout,
                        profile: profile(pricing.as_ref()),
                        health: health.get(&t.provider, &t.model, &config.breaker),
                        meta: TargetMeta {
                            pricing: pricing.map(Arc::new),
                        },
                    })
                })
                .collect();
        let view = RouteView {
            config,
            index: i,
            providers: &providers,
            catalog: &catalog,
        };
        let observer = observe_route(observer, &view, &mut problems);
        let mut agreement = shadow_agreement(r, i, &mut problems);
        meta.insert(
            r.name.clone(),
            RouteMeta {
                workload: r.workload.clone(),
                observer,
                openai_cache_key: r.prompt_cache.openai_key,
                batchable: r.batchable,
                cascade: r.cascade.clone(),
                cache: r.cache.clone().map(|policy| {
                    let targets = r
                        .targets
                        .iter()
                        .map(|t| (t.provider.as_str(), t.model.as_str()));
                    let targets = crate::cache::key::targets_digest(targets);
                    Arc::new(crate::cache::RouteCache {
                        semantic: policy.semantic.clone().map(|s| {
                            let sem = crate::cache::semantic::RouteSemantic::new(
                                s,
                                agreement.take().unwrap_or_else(Agreement::exact),
                                policy.scope,
                                targets,
                            );
                            Arc::new(sem)
                        }),
                        policy,
                        targets,
                    })
                }),
            },
        );
        routes.push(Route {
            name: r.name.clone(),
            targets,
            strategy: r.strategy,
            retry: r.retry.clone(),
            allow_drop: r.allow_drop.clone(),
            prompt_cache_ttl: r.prompt_cache.anthropic,
        });
    }
    if !problems.is_empty() {
        return Err(crate::ConfigErrors(problems).into());
    }
    if config.expose_catalog_models {
        let made = Made {
            catalog: &catalog,
            config,
            providers: &providers,
            health,
        };
        add_catalog_routes(&mut routes, &mut meta, &made);
    }

    Ok(Parts {
        catalog,
        routes,
        meta,
    })
}

/// How a semantic cache's shadow mode compares answers: the route's scorers, else exact
/// equality. Scorer errors are reported here unless the route captures or shadows (then the
/// evaluation observer reports them), so each is named once.
fn shadow_agreement(
    r: &crate::config::RouteConfig,
    i: usize,
    problems: &mut Vec<ConfigError>,
) -> Option<Agreement> {
    r.cache.as_ref()?.semantic.as_ref()?;
    let report = r.capture.is_none() && r.shadow.is_empty();
    Some(Agreement::compile(
        &r.scorers,
        i,
        report.then_some(problems),
    ))
}

/// The route's observer; a route that captures or shadows needs an observer installed.
fn observe_route(
    observer: Option<&dyn Observer>,
    view: &RouteView<'_>,
    problems: &mut Vec<ConfigError>,
) -> Option<Arc<dyn crate::RouteObserver>> {
    if let Some(o) = observer {
        return o.route(view, problems);
    }
    let r = view.config.routes.get(view.index)?;
    let field = match (&r.capture, r.shadow.is_empty()) {
        (Some(_), _) => "capture",
        (None, false) => "shadow",
        (None, true) => return None,
    };
    problems.push(ConfigError {
        path: format!("routes[{}].{field}", view.index),
        message: "evaluation is not part of this assembly: build the gateway with \
                  switchyard-evaluation's observer (the switchyard binary does), or remove it"
            .into(),
    });
    None
}

/// The one factory where a provider kind picks an adapter.
fn make_provider(
    p: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
    client: switchyard_providers::HttpClient,
) -> Result<Arc<dyn Provider>, String> {
    let api_key = p
        .api_key_env
        .as_deref()
        .and_then(env)
        .filter(|k| !k.is_empty())
        .map(Secret::new);
    if p.kind == ProviderKind::Anthropic {
        let settings = AnthropicSettings {
            name: p.name.clone(),
            base_url: p.base_url.clone(),
            api_key,
            headers: p.headers.clone(),
            timeout: p.timeout,
        };
        return Ok(Arc::new(Anthropic::new(settings, client)?));
    }
    if p.kind == ProviderKind::Gemini {
        let settings = GeminiSettings {
            name: p.name.clone(),
            base_url: p.base_url.clone(),
            api_key,
            headers: p.headers.clone(),
            timeout: p.timeout,
        };
        return Ok(Arc::new(Gemini::new(settings, client)?));
    }
    let azure = (p.kind == ProviderKind::Azure).then(|| AzureSettings {
        api_version: p
            .api_version
            .clone()
            .unwrap_or_else(|| crate::config::DEFAULT_AZURE_API_VERSION.into()),
        deployments: p.deployments.clone(),
    });
    let adapter = OpenAiCompatible::new(
        OpenAiSettings {
            name: p.name.clone(),
            kind: p.kind,
            base_url: p.base_url.clone(),
            api_key,
            azure,
            headers: p.headers.clone(),
            timeout: p.timeout,
            responses_api: p.responses_api,
        },
        client,
    )?;
    Ok(Arc::new(adapter))
}

/// The catalog entry that prices `model` on provider `pc`: the provider's configured price
/// provider, else its kind's, else any catalog entry of that name from the model's creator.
pub(crate) fn price_entry(
    catalog: &Catalog,
    pc: &ProviderConfig,
    model: &str,
) -> Option<ModelEntry> {
    let by_kind = pc
        .price_provider
        .as_deref()
        .unwrap_or(pc.kind.catalog_provider());
    if let Some(m) = catalog
        .get(by_kind, model)
        .or_else(|| catalog.get(&pc.name, model))
    {
        return Some(m.clone());
    }
    let all = catalog.find(model);
    all.iter()
        .find(|m| m.provider == m.creator || (m.creator == "google" && m.provider == "gemini"))
        .or(all.first())
        .map(|m| (*m).clone())
}

/// One route per catalog model of each configured provider, named by the model id; a model
/// served by several providers gets one route whose targets follow the config order.
/// What the catalog routes are made from.
struct Made<'a> {
    catalog: &'a Catalog,
    config: &'a Config,
    providers: &'a HashMap<String, (Arc<dyn Provider>, &'a ProviderConfig)>,
    health: &'a HealthRegistry,
}

fn add_catalog_routes(
    routes: &mut Vec<Route<TargetMeta>>,
    meta: &mut HashMap<String, RouteMeta>,
    made: &Made<'_>,
) {
    let Made {
        catalog,
        config,
        providers,
        health,
    } = *made;
    for pc in &config.providers {
        let Some((provider, _)) = providers.get(&pc.name) else {
            continue;
        };
        // (name the upstream knows, catalog entry). Azure serves only its deployments, under
        // the names its `deployments` table maps; local servers serve whatever they loaded.
        let models: Vec<(&str, &ModelEntry)> = match pc.kind {
            ProviderKind::Azure => pc
                .deployments
                .keys()
                .filter_map(|m| catalog.get("openai", m).map(|e| (m.as_str(), e)))
                .collect(),
            ProviderKind::Ollama
            | ProviderKind::Vllm
            | ProviderKind::LlamaCpp
            | ProviderKind::OpenAiCompatible => continue,
            _ => catalog
                .by_provider(pc.kind.catalog_provider())
                .map(|m| (m.id.as_str(), m))
                .collect(),
        };
        let today = chrono::Utc::now().date_naive();
        for (upstream_name, m) in models {
            // Retired models are not offered; an explicit route of the same name wins.
            if m.retirement.is_some_and(|d| d < today)
                || config.routes.iter().any(|c| c.name == m.id)
            {
                continue;
            }
            let target = Target {
                provider: provider.clone(),
                model: upstream_name.to_string(),
                weight: 1,
                timeout: None,
                ttft_timeout: None,
                profile: profile(Some(m)),
                health: health.get(&pc.name, upstream_name, &config.breaker),
                meta: TargetMeta {
                    pricing: Some(Arc::new(m.clone())),
                },
            };
            match routes.iter_mut().find(|r| r.name == m.id) {
                Some(r) => r.targets.push(target),
                None => {
                    meta.insert(m.id.clone(), RouteMeta::default());
                    routes.push(Route {
                        name: m.id.clone(),
                        targets: vec![target],
                        strategy: Strategy::Fallback,
                        retry: RetryPolicy::default(),
                        allow_drop: Vec::new(),
                        prompt_cache_ttl: None,
                    });
                }
            }
        }
    }
}

/// What the router needs to know of a target's model: capabilities, context window and
/// current list prices (USD per token), from its catalog entry; unknown without one.
fn profile(entry: Option<&ModelEntry>) -> Profile {
    let Some(m) = entry else {
        return Profile::default();
    };
    let per_token = |v: switchyard_primitives::Money| {
        use rust_decimal::prelude::ToPrimitive;
        v.0.to_f64().map(|x| x / 1_000_000.0)
    };
    let price = m.current_price();
    Profile {
        context_window: (m.context_window > 0).then_some(m.context_window),
        max_output: m.max_output,
        tools: Some(m.capabilities.tools),
        vision: Some(m.capabilities.vision),
        json_schema: Some(m.capabilities.json_schema),
        input_cost: per_token(price.input),
        output_cost: per_token(price.output),
        min_cache_tokens: m.capabilities.prompt_cache_min_tokens,
    }
}

/// Whether a reload changed a `[server]` option that only a restart applies.
fn server_options_changed(
    new: &crate::config::ServerConfig,
    old: &crate::config::ServerConfig,
) -> bool {
    (new.max_body_bytes, new.shutdown_delay, new.header_timeout)
        != (old.max_body_bytes, old.shutdown_delay, old.header_timeout)
        || (new.body_timeout, new.idle_timeout, new.max_connections)
            != (old.body_timeout, old.idle_timeout, old.max_connections)
}
