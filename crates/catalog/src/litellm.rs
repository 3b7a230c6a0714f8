//! Import of LiteLLM's `model_prices_and_context_window.json`.
//!
//! LiteLLM prices per token; we price per million, so every figure is multiplied by 10^6 as an
//! exact decimal (the JSON float's shortest text is parsed, never its binary value). Entries
//! carry no effective date, so they apply from 2000-01-01 and replace any bundled entry with
//! the same provider and id.

use crate::load::{CatalogError, LoadError};
use crate::model::{Capabilities, ModelEntry, ModelKind, PriceTier, PriceVersion};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use switchyard_primitives::Money;

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    litellm_provider: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    max_input_tokens: Option<u64>,
    #[serde(default)]
    max_tokens: Option<u64>,
    #[serde(default)]
    max_output_tokens: Option<u64>,
    #[serde(default)]
    input_cost_per_token: Option<Money>,
    #[serde(default)]
    output_cost_per_token: Option<Money>,
    #[serde(default)]
    cache_read_input_token_cost: Option<Money>,
    #[serde(default)]
    cache_creation_input_token_cost: Option<Money>,
    #[serde(default)]
    output_cost_per_reasoning_token: Option<Money>,
    #[serde(default)]
    input_cost_per_token_above_200k_tokens: Option<Money>,
    #[serde(default)]
    output_cost_per_token_above_200k_tokens: Option<Money>,
    #[serde(default)]
    input_cost_per_token_batches: Option<Money>,
    #[serde(default)]
    supports_function_calling: Option<bool>,
    #[serde(default)]
    supports_vision: Option<bool>,
    #[serde(default)]
    supports_response_schema: Option<bool>,
    #[serde(default)]
    supports_reasoning: Option<bool>,
    #[serde(default)]
    supports_prompt_caching: Option<bool>,
    #[serde(default)]
    deprecation_date: Option<String>,
}

/// LiteLLM provider names mapped to Switchyard's provider ids.
fn provider_id(litellm: &str) -> &str {
    match litellm {
        "together_ai" => "together",
        "vertex_ai-language-models" => "vertex_ai",
        "text-completion-openai" => "openai",
        other => other,
    }
}

fn per_million(m: Money) -> Money {
    Money::new(m.decimal() * Decimal::from(1_000_000u32)).normalized()
}

trait Normalize {
    fn normalized(self) -> Self;
}

impl Normalize for Money {
    fn normalized(self) -> Self {
        Money::new(self.decimal().normalize())
    }
}

pub(crate) fn parse(text: &str, origin: &str) -> Result<Vec<ModelEntry>, CatalogError> {
    let raw: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| CatalogError::Syntax {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (name, value) in raw {
        if name == "sample_spec" {
            continue;
        }
        let entry: Entry = match serde_json::from_value(value) {
            Ok(e) => e,
            Err(e) => {
                errors.push(LoadError {
                    path: name.clone(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        if let Some(m) = convert(&name, entry) {
            out.push(m);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(CatalogError::Invalid {
            origin: origin.to_string(),
            errors,
        })
    }
}

/// `None` for entries that are not priced per token (images, audio per second, …).
fn convert(name: &str, e: Entry) -> Option<ModelEntry> {
    let input = e.input_cost_per_token?;
    let provider = provider_id(e.litellm_provider.as_deref().unwrap_or("unknown")).to_string();
    let kind = match e.mode.as_deref() {
        Some("embedding") => ModelKind::Embedding,
        Some("chat") | Some("completion") | None => ModelKind::Chat,
        Some(_) => return None,
    };
    // Keys are often `provider/model`; the API id is the part after the provider.
    let id = name
        .strip_prefix(&format!("{provider}/"))
        .or_else(|| {
            e.litellm_provider
                .as_deref()
                .and_then(|p| name.strip_prefix(&format!("{p}/")))
        })
        .unwrap_or(name)
        .to_string();
    let mut tiers = Vec::new();
    if let Some(t) = e.input_cost_per_token_above_200k_tokens {
        tiers.push(PriceTier {
            above_input_tokens: 200_000,
            input: per_million(t),
            cached_input: None,
            output: e.output_cost_per_token_above_200k_tokens.map(per_million),
        });
    }
    let batch_discount = e.input_cost_per_token_batches.and_then(|b| {
        let full = input.decimal();
        (!full.is_zero()).then(|| (Decimal::ONE - b.decimal() / full).normalize())
    });
    Some(ModelEntry {
        creator: provider.clone(),
        family: id.clone(),
        id,
        provider,
        kind,
        aliases: Vec::new(),
        context_window: e.max_input_tokens.or(e.max_tokens).unwrap_or(0),
        max_output: e.max_output_tokens,
        capabilities: Capabilities {
            tools: e.supports_function_calling.unwrap_or(false),
            vision: e.supports_vision.unwrap_or(false),
            json_schema: e.supports_response_schema.unwrap_or(false),
            reasoning: e.supports_reasoning.unwrap_or(false),
            prompt_caching: e.supports_prompt_caching.unwrap_or(false),
            prompt_cache_min_tokens: None,
        },
        open_weights: false,
        license: "unknown".into(),
        released: None,
        deprecation_announced: None,
        retirement: e
            .deprecation_date
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
        successor: None,
        source: "litellm model_prices_and_context_window.json".into(),
        as_of: None,
        prices: vec![PriceVersion {
            effective_from: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default(),
            input: per_million(input),
            cached_input: e.cache_read_input_token_cost.map(per_million),
            cache_write: e.cache_creation_input_token_cost.map(per_million),
            cache_write_1h: None,
            output: e
                .output_cost_per_token
                .map(per_million)
                .unwrap_or(Money::ZERO),
            reasoning: e.output_cost_per_reasoning_token.map(per_million),
            batch_discount,
            tiers,
        }],
    })
}
