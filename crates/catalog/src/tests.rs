use super::*;
use chrono::TimeZone;
use std::str::FromStr;
use switchyard_primitives::{Money, TokenUsage};

const SAMPLE: &str = r#"
schema_version = 1
catalog_version = "test-1"

[[model]]
id = "m1"
provider = "p"
context_window = 1000000
aliases = ["m1-latest"]
successor = "m2"
[[model.prices]]
effective_from = "2025-01-01"
input = "3.00"
cached_input = "0.30"
cache_write = "3.75"
cache_write_1h = "6.00"
output = "15.00"
[[model.prices.tiers]]
above_input_tokens = 200000
input = "6.00"
output = "22.50"
[[model.prices]]
effective_from = "2024-01-01"
input = "5.00"
output = "15.00"

[[model]]
id = "m2"
provider = "p"
context_window = 8000
[[model.prices]]
effective_from = "2025-01-01"
input = 0.1
output = 0.4
reasoning = "1.0"
"#;

fn sample() -> Catalog {
    let mut c = Catalog::default();
    c.merge_toml(SAMPLE, "sample").unwrap();
    c
}

fn at(y: i32, m: u32, d: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

#[test]
fn every_token_kind_is_priced_at_its_own_rate() {
    let c = sample();
    let u = TokenUsage {
        input: 1000,
        cached_input: 2000,
        cache_write: 3000,
        cache_write_1h: 1000,
        output: 500,
        reasoning: 0,
    };
    // input 1000*3 + cached 2000*0.30 + 5m writes 2000*3.75 + 1h writes 1000*6 + output 500*15
    // = 3000 + 600 + 7500 + 6000 + 7500 = 24600 per million = $0.0246
    let p = c.cost("p", "m1", &u, at(2025, 6, 1)).unwrap();
    assert_eq!(p.cost, Money::from_str("0.0246").unwrap());
    assert_eq!(p.price_version, "p/m1@2025-01-01");
}

#[test]
fn prices_are_effective_dated() {
    let c = sample();
    // 100k tokens stay under the 200k tier: 100000 * 5 / 1e6 = 0.5 before, * 3 / 1e6 = 0.3 after.
    let u = TokenUsage {
        input: 100_000,
        ..Default::default()
    };
    assert_eq!(
        c.cost("p", "m1", &u, at(2024, 6, 1))
            .unwrap()
            .cost
            .to_string(),
        "0.5"
    );
    assert_eq!(
        c.cost("p", "m1", &u, at(2025, 6, 1))
            .unwrap()
            .cost
            .to_string(),
        "0.3"
    );
    // Before the first version, the earliest version applies.
    assert_eq!(
        c.cost("p", "m1", &u, at(2020, 1, 1)).unwrap().price_version,
        "p/m1@2024-01-01"
    );
}

#[test]
fn long_context_tier_applies_above_threshold_only() {
    let c = sample();
    let small = TokenUsage {
        input: 200_000,
        output: 1_000_000,
        ..Default::default()
    };
    let large = TokenUsage {
        input: 200_001,
        output: 1_000_000,
        ..Default::default()
    };
    // 200000*3/1e6 + 15 = 15.6 ; 200001*6/1e6 + 22.5 = 23.700006
    assert_eq!(
        c.cost("p", "m1", &small, at(2025, 6, 1))
            .unwrap()
            .cost
            .to_string(),
        "15.6"
    );
    assert_eq!(
        c.cost("p", "m1", &large, at(2025, 6, 1))
            .unwrap()
            .cost
            .to_string(),
        "23.700006"
    );
}

#[test]
fn reasoning_has_its_own_price_and_floats_are_exact() {
    let c = sample();
    let u = TokenUsage {
        input: 10,
        output: 10,
        reasoning: 10,
        ..Default::default()
    };
    // (10*0.1 + 10*0.4 + 10*1.0) / 1e6 = 15 / 1e6
    assert_eq!(
        c.cost("p", "m2", &u, at(2025, 6, 1))
            .unwrap()
            .cost
            .to_string(),
        "0.000015"
    );
}

#[test]
fn lookup_by_alias_and_unknown_model() {
    let c = sample();
    assert_eq!(c.get("p", "m1-latest").unwrap().id, "m1");
    assert!(c.get("other", "m1").is_none());
    assert!(
        c.cost("p", "nope", &TokenUsage::default(), at(2025, 1, 1))
            .is_none()
    );
}

#[test]
fn every_error_is_reported_with_its_path() {
    let bad = r#"
[[model]]
id = "a"
provider = "p"
context_window = 0
released = "June 2024"
successor = "ghost"
[[model.prices]]
effective_from = "2025-01-01"
input = "-1"
output = "1"
batch_discount = "2"
"#;
    let err = Catalog::default().merge_toml(bad, "bad.toml").unwrap_err();
    let CatalogError::Invalid { errors, .. } = err else {
        panic!("expected Invalid")
    };
    let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "model[0].context_window",
            "model[0].released",
            "model[0].prices[0].input",
            "model[0].prices[0].batch_discount"
        ]
    );
    let err = Catalog::default()
        .merge_toml(
            &bad.replace("context_window = 0", "context_window = 5")
                .replace("June 2024", "2024-06-01")
                .replace("\"-1\"", "\"1\"")
                .replace("\"2\"", "\"0.5\""),
            "b",
        )
        .unwrap_err();
    assert!(err.to_string().contains("model[0].successor"), "{err}");
}

#[test]
fn user_file_overrides_bundled_entry() {
    let mut c = sample();
    c.merge_toml(
        "[[model]]\nid='m2'\nprovider='p'\ncontext_window=1\n[[model.prices]]\neffective_from='2025-01-01'\ninput='9'\noutput='9'\n",
        "user",
    )
    .unwrap();
    assert_eq!(c.models().len(), 2);
    assert_eq!(
        c.get("p", "m2").unwrap().current_price().input.to_string(),
        "9"
    );
}

#[test]
fn litellm_per_token_prices_become_per_million() {
    let json = r#"{
      "sample_spec": {"input_cost_per_token": 0},
      "gpt-x": {"litellm_provider": "openai", "mode": "chat", "max_input_tokens": 128000, "max_output_tokens": 16384,
                "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "cache_read_input_token_cost": 1.25e-06,
                "input_cost_per_token_batches": 1.25e-06, "supports_function_calling": true},
      "together_ai/meta-llama/Llama-3-8b": {"litellm_provider": "together_ai", "mode": "chat", "input_cost_per_token": 2e-07, "output_cost_per_token": 2e-07},
      "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation", "input_cost_per_pixel": 1e-08}
    }"#;
    let entries = litellm::parse(json, "l.json").unwrap();
    assert_eq!(entries.len(), 2);
    let g = entries.iter().find(|e| e.id == "gpt-x").unwrap();
    let p = g.current_price();
    assert_eq!(
        (p.input.to_string(), p.output.to_string()),
        ("2.5".into(), "10".into())
    );
    assert_eq!(p.cached_input.unwrap().to_string(), "1.25");
    assert_eq!(p.batch_discount.unwrap().to_string(), "0.5");
    assert!(g.capabilities.tools);
    let t = entries.iter().find(|e| e.provider == "together").unwrap();
    assert_eq!(t.id, "meta-llama/Llama-3-8b");
}

#[test]
fn bundled_catalog_loads_and_covers_major_vendors() {
    let c = Catalog::bundled().unwrap();
    for provider in ["openai", "anthropic", "gemini", "mistral", "deepseek"] {
        assert!(
            c.by_provider(provider).count() >= 2,
            "too few {provider} models"
        );
    }
    assert!(
        c.models().iter().any(|m| m.open_weights),
        "open-weight models are covered"
    );
    assert!(!c.version().is_empty());
}

#[test]
fn the_breakdown_lists_each_kind_at_its_price_and_adds_up_to_the_cost() {
    let c = sample();
    let m = c.get("p", "m1").unwrap();
    let p = m.price_at(at(2025, 6, 1).date_naive());
    // 250,000 prompt tokens: above 200,000 → tier input 6 (cached stays 0.30: the tier lists
    // none), output 22.50; reasoning is billed as (tier) output.
    let u = TokenUsage {
        input: 240_000,
        cached_input: 10_000,
        output: 1_000,
        reasoning: 2_000,
        ..Default::default()
    };
    let b = p.breakdown(&u);
    let costs: Vec<(&str, String)> = b
        .lines
        .iter()
        .map(|l| (l.kind, l.cost.to_string()))
        .collect();
    assert_eq!(
        costs,
        [
            ("input", "1.44".to_string()),
            ("cached input", "0.003".into()),
            ("cache write", "0".into()),
            ("cache write (1h)", "0".into()),
            ("output", "0.0225".into()),
            ("reasoning", "0.045".into()),
        ]
    );
    assert_eq!(b.tier_above_input_tokens, Some(200_000));
    assert_eq!(b.total, p.cost(&u));
    assert_eq!(b.total.to_string(), "1.5105");
    assert!(
        b.lines[5]
            .priced_as
            .is_some_and(|s| s.contains("output price"))
    );
}
