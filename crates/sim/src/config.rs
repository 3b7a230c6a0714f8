//! Simulator configuration: a latency model and faults, by default and per model.

use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

/// How one model behaves. Rates are probabilities per request.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Behaviour {
    pub ttft_ms: u64,
    /// 0 means instant.
    pub tokens_per_second: f64,
    pub error_rate: f64,
    pub rate_429: f64,
    pub retry_after_s: u64,
    pub timeout_rate: f64,
    pub disconnect_rate: f64,
    /// Behave like llama.cpp's server: never report usage.
    pub omit_usage: bool,
    /// Upper bound on generated tokens when the request sets none.
    pub max_output_tokens: u32,
    /// Answer a JSON request (`response_format`) with the JSON cut short by its last
    /// character, as weak models do (OpenAI dialect): what cascade checks catch.
    pub broken_json: bool,
    /// Share of JSON requests answered as `broken_json` does, decided by the request's own
    /// hash (the same request is broken every time): a weak model that is *sometimes* wrong.
    pub broken_json_rate: f64,
    /// Answer every chat request (OpenAI dialect, no tool call) with a judge's rubric verdict,
    /// `{"score": judge_score, "reason": …}`: a simulated judge model for cascade and shadow
    /// checks. `None` (the default) answers prose, which no judge verdict reader accepts.
    pub judge_score: Option<f64>,
    /// Embeddings built from the text's words (each word a fixed random direction, summed and
    /// normalised), so texts that share most words are near, as a paraphrase is to a real
    /// embedding model; the default draws one random vector per text, so distinct texts are
    /// never near. The demo's semantic cache embeds with it.
    pub word_vectors: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            ttft_ms: 250,
            tokens_per_second: 80.0,
            error_rate: 0.0,
            rate_429: 0.0,
            retry_after_s: 1,
            timeout_rate: 0.0,
            disconnect_rate: 0.0,
            omit_usage: false,
            max_output_tokens: 320,
            broken_json: false,
            broken_json_rate: 0.0,
            judge_score: None,
            word_vectors: false,
        }
    }
}

impl Behaviour {
    pub fn ttft(&self) -> Duration {
        Duration::from_millis(self.ttft_ms)
    }

    /// Time between streamed tokens.
    pub fn per_token(&self) -> Duration {
        if self.tokens_per_second <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(1.0 / self.tokens_per_second)
        }
    }

    fn instant() -> Self {
        Behaviour {
            ttft_ms: 0,
            tokens_per_second: 0.0,
            ..Behaviour::default()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    pub seed: u64,
    /// If set, requests must carry this key (as a bearer token or `api-key`).
    pub api_key: Option<String>,
    pub defaults: Behaviour,
    pub models: HashMap<String, Behaviour>,
    /// Polls of a batch (OpenAI Batch API, Anthropic Message Batches, Gemini batch mode) that
    /// answer it still running before it has ended.
    pub batch_polls: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 7,
            batch_polls: 0,
            api_key: None,
            defaults: Behaviour::default(),
            models: HashMap::new(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSimConfig {
    seed: Option<u64>,
    api_key: Option<String>,
    batch_polls: Option<u32>,
    #[serde(default)]
    defaults: toml::Table,
    #[serde(default)]
    models: HashMap<String, toml::Table>,
}

impl SimConfig {
    /// Parses a sim config; each `[models."name"]` section inherits what it omits from `[defaults]`.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let raw: RawSimConfig =
            toml::from_str(text).map_err(|e| format!("invalid sim config: {e}"))?;
        let defaults = Behaviour::deserialize(raw.defaults.clone())
            .map_err(|e| format!("invalid sim config: defaults: {e}"))?;
        let mut models = HashMap::new();
        for (name, table) in raw.models {
            let mut merged = raw.defaults.clone();
            merged.extend(table);
            let b = Behaviour::deserialize(merged)
                .map_err(|e| format!("invalid sim config: models.{name}: {e}"))?;
            models.insert(name, b);
        }
        for (name, b) in std::iter::once(("defaults", &defaults))
            .chain(models.iter().map(|(n, b)| (n.as_str(), b)))
        {
            for (field, rate) in [
                ("error_rate", b.error_rate),
                ("rate_429", b.rate_429),
                ("timeout_rate", b.timeout_rate),
                ("disconnect_rate", b.disconnect_rate),
            ] {
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!(
                        "invalid sim config: {name}.{field} = {rate} must be a probability between 0 and 1"
                    ));
                }
            }
        }
        Ok(SimConfig {
            seed: raw.seed.unwrap_or(7),
            api_key: raw.api_key,
            batch_polls: raw.batch_polls.unwrap_or(0),
            defaults,
            models,
        })
    }

    /// Zero latency everywhere (benchmarks): faults configured per model still apply.
    pub fn fast(mut self) -> Self {
        self.defaults.ttft_ms = 0;
        self.defaults.tokens_per_second = 0.0;
        for b in self.models.values_mut() {
            b.ttft_ms = 0;
            b.tokens_per_second = 0.0;
        }
        self
    }

    /// A config with no latency at all, for tests.
    pub fn instant() -> Self {
        SimConfig {
            defaults: Behaviour::instant(),
            ..SimConfig::default()
        }
    }

    pub fn behaviour(&self, model: &str) -> &Behaviour {
        self.models.get(model).unwrap_or(&self.defaults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_sections_inherit_defaults() {
        let c = SimConfig::from_toml("[defaults]\nttft_ms = 5\n[models.m]\nerror_rate = 0.5\n")
            .unwrap();
        let m = c.behaviour("m");
        assert_eq!((m.ttft_ms, m.error_rate), (5, 0.5));
        assert_eq!(c.behaviour("other").error_rate, 0.0);
    }

    #[test]
    fn rates_must_be_probabilities() {
        let e = SimConfig::from_toml("[models.m]\nrate_429 = 1.5\n").unwrap_err();
        assert!(e.contains("m.rate_429"), "{e}");
        assert!(SimConfig::from_toml("[defaults]\nbogus = 1\n").is_err());
    }
}
