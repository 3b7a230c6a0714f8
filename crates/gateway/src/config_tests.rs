use super::*;

#[test]
fn minimal_config_gets_defaults() {
    let c = Config::from_toml("").unwrap();
    assert_eq!(c.server.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.ledger.path, PathBuf::from(DEFAULT_LEDGER));
    assert!(!c.expose_catalog_models);
}

#[test]
fn full_config_parses() {
    let c = Config::from_toml(
        r#"
[server]
listen = "0.0.0.0:9000"
[ledger]
path = "/tmp/l.db"
flush_interval_ms = 50
[providers.openai]
kind = "openai"
[providers.az]
kind = "azure"
base_url = "https://r.openai.azure.com"
deployments = { "gpt-4o" = "prod-4o" }
[providers.local]
kind = "vllm"
[[routes]]
name = "chat"
workload = "support"
targets = [{ provider = "openai", model = "gpt-4o-mini" }, { provider = "az", model = "gpt-4o", price_as = "openai/gpt-4o" }]
"#,
    )
    .unwrap();
    assert_eq!(c.providers.len(), 3);
    let az = c.providers.iter().find(|p| p.name == "az").unwrap();
    assert_eq!(az.api_version.as_deref(), Some(DEFAULT_AZURE_API_VERSION));
    assert_eq!(az.api_key_env.as_deref(), Some("AZURE_OPENAI_API_KEY"));
    let local = c.providers.iter().find(|p| p.name == "local").unwrap();
    assert_eq!(local.api_key_env, None);
    assert_eq!(
        c.routes[0].targets[1].price_as,
        Some(("openai".into(), "gpt-4o".into()))
    );
}

#[test]
fn every_error_is_reported_at_once_with_its_path() {
    let errs = Config::from_toml(
        r#"
[server]
listen = "nowhere"
[ledger]
batch_size = 0
[providers.x]
kind = "bogus"
[providers.y]
kind = "openai-compatible"
[[routes]]
name = "r"
targets = [{ provider = "ghost", model = "m", price_as = "nope" }]
[[routes]]
name = "r"
[extra]
"#,
    )
    .unwrap_err();
    let paths: Vec<_> = errs.0.iter().map(|e| e.path.as_str()).collect();
    for expected in [
        "extra",
        "server.listen",
        "ledger.batch_size",
        "providers.x.kind",
        "providers.y.base_url",
        "routes[0].targets[0].provider",
        "routes[0].targets[0].price_as",
        "routes[1].targets",
        "routes[1].name",
    ] {
        assert!(paths.contains(&expected), "missing {expected} in {paths:?}");
    }
}

#[test]
fn unknown_keys_and_wrong_types_name_the_section() {
    let errs =
        Config::from_toml("[server]\nlisten = 5\n[providers.a]\nkind = \"openai\"\ntimeout = 3\n")
            .unwrap_err();
    let paths: Vec<_> = errs.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["server", "providers.a"]);
    assert!(errs.to_string().contains("timeout"), "{errs}");
}

#[test]
fn a_key_in_place_of_a_variable_name_is_refused() {
    let errs = Config::from_toml("[providers.a]\nkind = \"openai\"\napi_key_env = \"sk-abc123\"\n")
        .unwrap_err();
    assert_eq!(errs.0[0].path, "providers.a.api_key_env");
    assert!(
        !errs.to_string().contains("sk-abc123"),
        "the secret is not echoed"
    );
}

#[test]
fn missing_env_names_the_variable() {
    let c = Config::from_toml("[providers.a]\nkind = \"mistral\"\n").unwrap();
    let missing = c.missing_env(&|_| None);
    assert_eq!(missing.len(), 1);
    assert!(missing[0].message.contains("MISTRAL_API_KEY"));
    assert!(c.missing_env(&|_| Some("k".into())).is_empty());
}

#[test]
fn embedded_defaults_detect_providers_from_env() {
    let env = |k: &str| match k {
        "OPENAI_API_KEY" | "MISTRAL_API_KEY" => Some("k".to_string()),
        "OPENAI_BASE_URL" => Some("http://127.0.0.1:1/v1".to_string()),
        _ => None,
    };
    let c = Config::from_env(&env);
    let names: Vec<_> = c.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["openai", "mistral"]);
    assert_eq!(c.providers[0].base_url, "http://127.0.0.1:1/v1");
    assert!(c.expose_catalog_models);
}

#[test]
fn gemini_is_detected_from_google_api_key_too_and_gemini_api_key_wins() {
    let only_google = |k: &str| (k == "GOOGLE_API_KEY").then(|| "g".to_string());
    let c = Config::from_env(&only_google);
    assert_eq!(c.providers.len(), 1);
    assert_eq!(
        c.providers[0].api_key_env.as_deref(),
        Some("GOOGLE_API_KEY")
    );
    let both = |k: &str| matches!(k, "GOOGLE_API_KEY" | "GEMINI_API_KEY").then(|| "g".to_string());
    let c = Config::from_env(&both);
    assert_eq!(
        c.providers[0].api_key_env.as_deref(),
        Some("GEMINI_API_KEY")
    );
    assert!(c.missing_env(&both).is_empty());
}

#[test]
fn the_shipped_example_is_valid_and_uses_the_new_sections() {
    let c = Config::from_toml(include_str!("../../../switchyard.example.toml")).unwrap();
    let r = &c.routes[0];
    assert_eq!(r.strategy, Strategy::Fallback);
    assert_eq!(r.retry.retries, 1);
    assert_eq!(r.targets[0].ttft_timeout, Some(Duration::from_millis(5000)));
    assert!(r.capture.as_ref().is_some_and(|p| p.rate == 0.05));
    assert_eq!(r.shadow.len(), 1);
    assert_eq!(c.breaker.cooldown, Duration::from_secs(15));
    assert_eq!(c.admin.master_key_env, "SWITCHYARD_MASTER_KEY");
    assert_eq!(c.eval.shadow_concurrency, 4);
}

#[test]
fn bad_routing_and_eval_settings_are_all_reported_with_their_paths() {
    let text = r#"
[breaker]
error_ratio = 1.5
cooldown_s = 0
[admin]
master_key_env = "sk-oops"
[eval]
shadow_max_usd_per_day = "lots"
[providers.p]
kind = "openai"
[[routes]]
name = "r"
strategy = "fastest"
retries = 50
[routes.capture]
rate = 2.0
[[routes.shadow]]
provider = "nobody"
model = "m"
[[routes.targets]]
provider = "p"
model = "m"
ttft_timeout_ms = 0
"#;
    let errs = Config::from_toml(text).unwrap_err().0;
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    for p in [
        "breaker.error_ratio",
        "breaker.cooldown_s",
        "admin.master_key_env",
        "eval.shadow_max_usd_per_day",
        "routes[0].strategy",
        "routes[0].retries",
        "routes[0].capture.rate",
        "routes[0].shadow[0].provider",
        "routes[0].targets[0].ttft_timeout_ms",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
}

#[test]
fn server_connection_limits_have_defaults_and_zero_timeouts_are_refused_with_their_paths() {
    let c = Config::from_toml("").unwrap();
    assert_eq!(c.server.header_timeout, Duration::from_secs(10));
    assert_eq!(c.server.body_timeout, Duration::from_secs(30));
    assert_eq!(c.server.idle_timeout, Duration::from_secs(60));
    assert_eq!(c.server.max_connections, 1024);
    assert_eq!(c.server.shutdown_delay, Duration::ZERO);
    let set = "[server]\nheader_timeout_ms = 5\nbody_timeout_ms = 6\nidle_timeout_ms = 7\nmax_connections = 8\nshutdown_delay_ms = 9\n";
    let c = Config::from_toml(set).unwrap();
    assert_eq!(c.server.header_timeout, Duration::from_millis(5));
    assert_eq!(c.server.body_timeout, Duration::from_millis(6));
    assert_eq!(c.server.idle_timeout, Duration::from_millis(7));
    assert_eq!(c.server.max_connections, 8);
    assert_eq!(c.server.shutdown_delay, Duration::from_millis(9));
    let zero = "[server]\nheader_timeout_ms = 0\nbody_timeout_ms = 0\nidle_timeout_ms = 0\nmax_connections = 0\n";
    let e = Config::from_toml(zero).unwrap_err().to_string();
    for path in [
        "server.header_timeout_ms",
        "server.body_timeout_ms",
        "server.idle_timeout_ms",
        "server.max_connections",
    ] {
        assert!(e.contains(path), "{path} missing from: {e}");
    }
}

#[test]
fn prompt_cache_settings_parse_and_a_bad_ttl_names_its_field() {
    let base = r#"
[providers.claude]
kind = "anthropic"
[[routes]]
name = "review"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[routes.prompt_cache]
"#;
    let c = Config::from_toml(&format!("{base}anthropic = \"1h\"\nopenai_key = true\n")).unwrap();
    assert_eq!(
        c.routes[0].prompt_cache,
        crate::prompt_cache::PromptCacheConfig {
            anthropic: Some(switchyard_providers::CacheTtl::OneHour),
            openai_key: true,
        }
    );
    let errs = Config::from_toml(&format!("{base}anthropic = \"10m\"\n"))
        .unwrap_err()
        .0;
    assert_eq!(errs[0].path, "routes[0].prompt_cache.anthropic");
    assert!(
        errs[0].message.contains("\"5m\" or \"1h\""),
        "{}",
        errs[0].message
    );
    let unknown = Config::from_toml(&format!("{base}anthropik = \"5m\"\n")).unwrap_err();
    assert!(unknown.to_string().contains("anthropik"), "{unknown}");
}

#[test]
fn a_cascade_route_takes_its_order_and_checks_and_its_errors_name_their_fields() {
    let c = Config::from_toml(
        r#"
[providers.openai]
kind = "openai"
[[routes]]
name = "classify"
strategy = "cascade"
targets = [{ provider = "openai", model = "gpt-4o" }, { provider = "openai", model = "gpt-4o-mini" }]
[routes.cascade]
order = "config"
[[routes.cascade.checks]]
type = "json-schema"
schema = { type = "object", required = ["label"] }
"#,
    )
    .unwrap();
    let r = &c.routes[0];
    assert_eq!(r.strategy, Strategy::Cascade { config_order: true });
    assert!(r.cascade.is_some());

    let errs = Config::from_toml(
        r#"
[providers.openai]
kind = "openai"
[[routes]]
name = "one-tier"
strategy = "cascade"
targets = [{ provider = "openai", model = "gpt-4o" }]
[[routes.cascade.checks]]
type = "regex"
pattern = "("
[[routes]]
name = "not-a-cascade"
targets = [{ provider = "openai", model = "gpt-4o" }]
[[routes.cascade.checks]]
type = "json-valid"
"#,
    )
    .unwrap_err();
    let paths: Vec<_> = errs.0.iter().map(|e| e.path.as_str()).collect();
    for expected in [
        "routes[0].cascade.checks[0]",
        "routes[0].targets",
        "routes[1].cascade",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
}

#[test]
fn a_cascade_judge_must_name_a_route_of_the_config_that_is_not_a_cascade_itself() {
    let base = r#"
[providers.openai]
kind = "openai"
[[routes]]
name = "judge"
targets = [{ provider = "openai", model = "gpt-4o" }]
[[routes]]
name = "classify"
strategy = "cascade"
targets = [{ provider = "openai", model = "gpt-4o-mini" }, { provider = "openai", model = "gpt-4o" }]
[[routes.cascade.checks]]
type = "json-valid"
[[routes.cascade.checks]]
type = "judge"
route = "JUDGE"
rubric = "A label from the list."
threshold = 0.7
"#;
    let ok = Config::from_toml(&base.replace("JUDGE", "judge")).unwrap();
    let policy = ok.routes[1].cascade.as_ref().unwrap();
    assert_eq!(policy.judges().count(), 1);

    let errs = Config::from_toml(&base.replace("JUDGE", "jugde")).unwrap_err();
    assert_eq!(errs.0.len(), 1, "{errs}");
    assert_eq!(errs.0[0].path, "routes[1].cascade.checks[1].route");
    assert!(errs.0[0].message.contains("judge, classify"), "{errs}");

    let errs = Config::from_toml(&base.replace("JUDGE", "classify")).unwrap_err();
    assert_eq!(errs.0[0].path, "routes[1].cascade.checks[1].route");
    assert!(errs.0[0].message.contains("is a cascade itself"), "{errs}");
}

#[test]
fn a_route_is_batchable_only_when_it_says_so() {
    let c = Config::from_toml(
        r#"
[providers.openai]
kind = "openai"
[[routes]]
name = "nightly"
batchable = true
targets = [{ provider = "openai", model = "gpt-4o-mini" }]
[[routes]]
name = "chat"
targets = [{ provider = "openai", model = "gpt-4o-mini" }]
"#,
    )
    .unwrap();
    let flags: Vec<(&str, bool)> = c
        .routes
        .iter()
        .map(|r| (r.name.as_str(), r.batchable))
        .collect();
    assert_eq!(flags, [("nightly", true), ("chat", false)]);
    let bad = Config::from_toml(
        "[providers.openai]\nkind = \"openai\"\n[[routes]]\nname = \"n\"\nbatchable = \"yes\"\ntargets = [{ provider = \"openai\", model = \"m\" }]\n",
    );
    assert!(bad.is_err(), "a batchable that is not a boolean is refused");
}

#[test]
fn the_spool_sits_beside_a_ledger_file_or_in_the_working_directory_unless_set() {
    let c = Config::from_toml("[ledger]\npath = \"/var/lib/sy/ledger.db\"\n").unwrap();
    assert_eq!(
        c.ledger.spool_dir(),
        PathBuf::from("/var/lib/sy/switchyard-spool")
    );
    let c = Config::from_toml("[ledger]\npath = \"postgres://u:pw@db/ledger\"\n").unwrap();
    assert_eq!(c.ledger.spool_dir(), PathBuf::from("switchyard-spool"));
    let c = Config::from_toml("[ledger]\npath = \"postgres://db/l\"\nspool_dir = \"/srv/spool\"\n")
        .unwrap();
    assert_eq!(c.ledger.spool_dir(), PathBuf::from("/srv/spool"));
    let errs = Config::from_toml("[ledger]\nspool_dir = \"\"\n").unwrap_err();
    assert!(
        errs.0.iter().any(|e| e.path == "ledger.spool_dir"),
        "{errs:?}"
    );
}
