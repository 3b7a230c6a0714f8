//! Catalog TOML: raw serde structs, validated into [`ModelEntry`] with every error reported.

use crate::model::{Capabilities, ModelEntry, ModelKind, PriceTier, PriceVersion};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::fmt;
use std::path::Path;
use switchyard_primitives::Money;

/// One problem in a catalog file, at a path such as `model[3].prices[0].input`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read catalog file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{origin} is not valid: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin} has {} error(s):\n  {}", .errors.len(), .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n  "))]
    Invalid {
        origin: String,
        errors: Vec<LoadError>,
    },
}

impl CatalogError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        CatalogError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    catalog_version: Option<String>,
    #[serde(default)]
    model: Vec<RawModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    id: String,
    provider: String,
    #[serde(default)]
    creator: Option<String>,
    #[serde(default)]
    family: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    context_window: u64,
    #[serde(default)]
    max_output: Option<u64>,
    #[serde(default)]
    open_weights: bool,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    released: Option<String>,
    #[serde(default)]
    deprecation_announced: Option<String>,
    #[serde(default)]
    retirement: Option<String>,
    #[serde(default)]
    successor: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    capabilities: RawCaps,
    prices: Vec<RawPrice>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCaps {
    #[serde(default)]
    tools: bool,
    #[serde(default)]
    vision: bool,
    #[serde(default)]
    json_schema: bool,
    #[serde(default)]
    reasoning: bool,
    #[serde(default)]
    prompt_caching: bool,
    #[serde(default)]
    prompt_cache_min_tokens: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    effective_from: String,
    input: Money,
    #[serde(default)]
    cached_input: Option<Money>,
    #[serde(default)]
    cache_write: Option<Money>,
    #[serde(default)]
    cache_write_1h: Option<Money>,
    output: Money,
    #[serde(default)]
    reasoning: Option<Money>,
    #[serde(default)]
    batch_discount: Option<Money>,
    #[serde(default)]
    tiers: Vec<RawTier>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    above_input_tokens: u64,
    input: Money,
    #[serde(default)]
    cached_input: Option<Money>,
    #[serde(default)]
    output: Option<Money>,
}

/// Parses catalog TOML, returning its version and validated entries, or every error found.
pub(crate) fn parse_toml(
    text: &str,
    origin: &str,
) -> Result<(Option<String>, Vec<ModelEntry>), CatalogError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| CatalogError::Syntax {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    let mut errors = Vec::new();
    if let Some(v) = raw.schema_version {
        if v != 1 {
            errors.push(LoadError {
                path: "schema_version".into(),
                message: format!("unsupported schema version {v}; this build reads version 1"),
            });
        }
    }
    let mut out = Vec::with_capacity(raw.model.len());
    for (i, m) in raw.model.into_iter().enumerate() {
        let mut v = Validator {
            errors: &mut errors,
            base: format!("model[{i}]"),
        };
        if let Some(e) = v.model(m) {
            out.push(e);
        }
    }
    check_successors(&out, &mut errors);
    if errors.is_empty() {
        Ok((raw.catalog_version, out))
    } else {
        Err(CatalogError::Invalid {
            origin: origin.to_string(),
            errors,
        })
    }
}

fn check_successors(models: &[ModelEntry], errors: &mut Vec<LoadError>) {
    for (i, m) in models.iter().enumerate() {
        if let Some(s) = &m.successor {
            if !models.iter().any(|o| &o.id == s || o.aliases.contains(s)) {
                errors.push(LoadError {
                    path: format!("model[{i}].successor"),
                    message: format!("successor {s:?} of {} is not in this file", m.id),
                });
            }
        }
    }
}

struct Validator<'e> {
    errors: &'e mut Vec<LoadError>,
    base: String,
}

impl Validator<'_> {
    fn err(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(LoadError {
            path: format!("{}.{field}", self.base),
            message: message.into(),
        });
    }

    fn date(&mut self, field: &str, v: Option<String>) -> Option<NaiveDate> {
        let v = v?;
        match NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.err(field, format!("{v:?} is not a date; write \"YYYY-MM-DD\""));
                None
            }
        }
    }

    fn model(&mut self, m: RawModel) -> Option<ModelEntry> {
        let before = self.errors.len();
        if m.id.trim().is_empty() {
            self.err("id", "must not be empty");
        }
        if m.provider.trim().is_empty() {
            self.err("provider", "must not be empty");
        }
        let kind = match m.kind.as_deref() {
            None | Some("chat") => ModelKind::Chat,
            Some("embedding") => ModelKind::Embedding,
            Some(k) => {
                self.err(
                    "kind",
                    format!("{k:?} is not a kind; use \"chat\" or \"embedding\""),
                );
                ModelKind::Chat
            }
        };
        if m.context_window == 0 {
            self.err("context_window", "must be greater than 0");
        }
        let released = self.date("released", m.released);
        let deprecation_announced = self.date("deprecation_announced", m.deprecation_announced);
        let retirement = self.date("retirement", m.retirement);
        let as_of = self.date("as_of", m.as_of);
        let prices = self.prices(m.prices);
        if self.errors.len() > before {
            return None;
        }
        Some(ModelEntry {
            creator: m.creator.unwrap_or_else(|| m.provider.clone()),
            family: m.family.unwrap_or_else(|| m.id.clone()),
            id: m.id,
            provider: m.provider,
            kind,
            aliases: m.aliases,
            context_window: m.context_window,
            max_output: m.max_output,
            capabilities: Capabilities {
                tools: m.capabilities.tools,
                vision: m.capabilities.vision,
                json_schema: m.capabilities.json_schema,
                reasoning: m.capabilities.reasoning,
                prompt_caching: m.capabilities.prompt_caching,
                prompt_cache_min_tokens: m.capabilities.prompt_cache_min_tokens,
            },
            open_weights: m.open_weights,
            license: m.license.unwrap_or_else(|| "proprietary".into()),
            released,
            deprecation_announced,
            retirement,
            successor: m.successor,
            source: m.source.unwrap_or_default(),
            as_of,
            prices,
        })
    }

    fn prices(&mut self, raw: Vec<RawPrice>) -> Vec<PriceVersion> {
        if raw.is_empty() {
            self.err("prices", "at least one [[model.prices]] entry is required");
        }
        let mut out = Vec::with_capacity(raw.len());
        for (j, p) in raw.into_iter().enumerate() {
            let field = format!("prices[{j}]");
            let Some(effective_from) =
                self.date(&format!("{field}.effective_from"), Some(p.effective_from))
            else {
                continue;
            };
            let tier_prices = p
                .tiers
                .iter()
                .flat_map(|t| [Some(t.input), t.cached_input, t.output]);
            let prices = [
                Some(p.input),
                Some(p.output),
                p.cached_input,
                p.cache_write,
                p.cache_write_1h,
                p.reasoning,
            ];
            let names = [
                "input",
                "output",
                "cached_input",
                "cache_write",
                "cache_write_1h",
                "reasoning",
            ];
            let labelled = names.iter().map(|n| n.to_string()).zip(prices).chain(
                tier_prices
                    .enumerate()
                    .map(|(k, m)| (format!("tiers[{}]", k / 3), m)),
            );
            for (name, m) in labelled {
                if m.is_some_and(|m| m.decimal().is_sign_negative()) {
                    self.err(&format!("{field}.{name}"), "a price cannot be negative");
                }
            }
            let batch_discount = p.batch_discount.map(|d| d.decimal());
            if batch_discount.is_some_and(|d| d < Decimal::ZERO || d > Decimal::ONE) {
                self.err(
                    &format!("{field}.batch_discount"),
                    "must be a fraction between 0 and 1 (0.5 = half price)",
                );
            }
            let mut tiers: Vec<PriceTier> = p
                .tiers
                .into_iter()
                .map(|t| PriceTier {
                    above_input_tokens: t.above_input_tokens,
                    input: t.input,
                    cached_input: t.cached_input,
                    output: t.output,
                })
                .collect();
            tiers.sort_by_key(|t| t.above_input_tokens);
            out.push(PriceVersion {
                effective_from,
                input: p.input,
                cached_input: p.cached_input,
                cache_write: p.cache_write,
                cache_write_1h: p.cache_write_1h,
                output: p.output,
                reasoning: p.reasoning,
                batch_discount,
                tiers,
            });
        }
        out.sort_by_key(|p| p.effective_from);
        if out
            .windows(2)
            .any(|w| w[0].effective_from == w[1].effective_from)
        {
            self.err("prices", "two price versions share an effective_from date");
        }
        out
    }
}
