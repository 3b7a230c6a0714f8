//! Layer 1: the model catalog — what each model costs, can do, and how long it will live.
//!
//! Owns the bundled price file (compiled in), user overrides, LiteLLM price-file import, and
//! `cost(usage)`. Prices are effective-dated, so history re-prices correctly after a change.
//! Must never know about requests, HTTP or storage.

mod cost;
mod litellm;
mod load;
mod model;

pub use cost::{CostBreakdown, CostLine, Priced};
pub use load::{CatalogError, LoadError};
pub use model::{Capabilities, ModelEntry, ModelKind, PriceTier, PriceVersion};

use chrono::NaiveDate;
use std::collections::HashMap;
use std::path::Path;

/// The bundled catalog, as shipped with this build.
pub const BUNDLED: &str = include_str!("../data/models.toml");

/// All known models, indexed by `(provider, id)` and by id or alias alone.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    version: String,
    models: Vec<ModelEntry>,
    by_key: HashMap<(String, String), usize>,
    by_name: HashMap<String, Vec<usize>>,
}

impl Catalog {
    /// The bundled catalog alone.
    pub fn bundled() -> Result<Self, CatalogError> {
        let mut c = Catalog::default();
        c.merge_toml(BUNDLED, "bundled catalog")?;
        Ok(c)
    }

    /// The bundled catalog, then each TOML file, then each LiteLLM JSON file, later entries
    /// replacing earlier ones with the same `(provider, id)`.
    pub fn load(
        toml_files: &[impl AsRef<Path>],
        litellm_files: &[impl AsRef<Path>],
    ) -> Result<Self, CatalogError> {
        let mut c = Catalog::bundled()?;
        for f in toml_files {
            let f = f.as_ref();
            let text = std::fs::read_to_string(f).map_err(|e| CatalogError::io(f, e))?;
            c.merge_toml(&text, &f.display().to_string())?;
        }
        for f in litellm_files {
            let f = f.as_ref();
            let text = std::fs::read_to_string(f).map_err(|e| CatalogError::io(f, e))?;
            let entries = litellm::parse(&text, &f.display().to_string())?;
            c.extend(entries);
        }
        Ok(c)
    }

    /// Parses catalog TOML text and merges it in.
    pub fn merge_toml(&mut self, text: &str, origin: &str) -> Result<(), CatalogError> {
        let (version, entries) = load::parse_toml(text, origin)?;
        if let Some(v) = version {
            if self.version.is_empty() {
                self.version = v;
            } else {
                self.version = format!("{}+{}", self.version, v);
            }
        }
        self.extend(entries);
        Ok(())
    }

    fn extend(&mut self, entries: Vec<ModelEntry>) {
        for e in entries {
            let key = (e.provider.clone(), e.id.clone());
            match self.by_key.get(&key) {
                Some(&i) => self.models[i] = e,
                None => {
                    self.by_key.insert(key, self.models.len());
                    self.models.push(e);
                }
            }
        }
        self.reindex();
    }

    fn reindex(&mut self) {
        self.by_name.clear();
        for (i, m) in self.models.iter().enumerate() {
            for name in std::iter::once(&m.id).chain(m.aliases.iter()) {
                self.by_name.entry(name.clone()).or_default().push(i);
            }
        }
    }

    /// The catalog version(s) merged, e.g. `2026-11-27`.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn models(&self) -> &[ModelEntry] {
        &self.models
    }

    /// The model served by `provider` under `name` (its id or an alias).
    pub fn get(&self, provider: &str, name: &str) -> Option<&ModelEntry> {
        if let Some(&i) = self.by_key.get(&(provider.to_string(), name.to_string())) {
            return Some(&self.models[i]);
        }
        self.by_name
            .get(name)?
            .iter()
            .map(|&i| &self.models[i])
            .find(|m| m.provider == provider)
    }

    /// Every model called `name` (id or alias), whatever the provider.
    pub fn find(&self, name: &str) -> Vec<&ModelEntry> {
        self.by_name
            .get(name)
            .map(|v| v.iter().map(|&i| &self.models[i]).collect())
            .unwrap_or_default()
    }

    /// The models a provider serves.
    pub fn by_provider<'a>(
        &'a self,
        provider: &'a str,
    ) -> impl Iterator<Item = &'a ModelEntry> + 'a {
        self.models.iter().filter(move |m| m.provider == provider)
    }

    /// Models whose retirement is announced and still ahead of (or at) `today`, or already past.
    pub fn deprecated_as_of(&self, today: NaiveDate) -> impl Iterator<Item = &ModelEntry> {
        self.models.iter().filter(move |m| {
            m.deprecation_announced.is_some_and(|d| d <= today) || m.retirement.is_some()
        })
    }
}

#[cfg(test)]
mod tests;
