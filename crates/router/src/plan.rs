//! Which targets a request may use, and in what order: fit first, then the route's strategy.

use crate::Target;
use crate::rng;

/// How a route orders its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// In the configured order.
    #[default]
    Fallback,
    /// First pick drawn by weight (canary, A/B); the rest follow, also drawn by weight.
    Weighted,
    /// Lowest moving average of latency (time to first token for streams) first; targets
    /// never measured go first so they get measured.
    LeastLatency,
    /// Cheapest estimated cost for this request first.
    LowestCost,
    /// Tiers tried one after another, cheapest first (or in config order), each answer
    /// checked by the layer above, which asks the next tier when a check fails
    /// ([`crate::Route::tiers`], [`crate::Route::execute_tier`]). Run as a whole by
    /// [`crate::Route::execute`], it orders like `LowestCost`.
    Cascade {
        /// Keep the configured order instead of sorting by price.
        config_order: bool,
    },
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Fallback => "fallback",
            Strategy::Weighted => "weighted",
            Strategy::LeastLatency => "least-latency",
            Strategy::LowestCost => "lowest-cost",
            Strategy::Cascade { .. } => "cascade",
        }
    }

    pub fn parse(s: &str) -> Option<Strategy> {
        Some(match s {
            "fallback" => Strategy::Fallback,
            "weighted" => Strategy::Weighted,
            "least-latency" => Strategy::LeastLatency,
            "lowest-cost" => Strategy::LowestCost,
            "cascade" => Strategy::Cascade {
                config_order: false,
            },
            _ => return None,
        })
    }
}

/// What a target is known to handle, from the catalog; `None` means unknown (assumed able).
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub context_window: Option<u64>,
    pub max_output: Option<u64>,
    pub tools: Option<bool>,
    pub vision: Option<bool>,
    pub json_schema: Option<bool>,
    /// Cost per input and per output token, in any unit shared by the route's targets.
    pub input_cost: Option<f64>,
    pub output_cost: Option<f64>,
    /// The shortest prompt prefix the provider caches, in tokens.
    pub min_cache_tokens: Option<u64>,
}

/// What one request needs from a target.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    pub tools: bool,
    pub vision: bool,
    pub json_schema: bool,
    /// The prompt's size in tokens (an estimate).
    pub prompt_tokens: u64,
    /// The output the client allows (`max_tokens`), if it said.
    pub max_output: Option<u64>,
    pub stream: bool,
    /// The `prompt_cache_key` OpenAI targets get when the client set none (the route's
    /// prompt-cache setting, per workload).
    pub cache_key: Option<String>,
}

/// Why a target was passed over without being called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The prompt (an estimate) plus the client's `max_tokens`, if it set one, exceed the
    /// target's context window.
    ContextWindow {
        prompt: u64,
        max_output: Option<u64>,
        window: u64,
    },
    Capability(&'static str),
    CircuitOpen,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::ContextWindow {
                prompt,
                max_output,
                window,
            } => {
                write!(f, "{}", crate::unfit::demand(*prompt, *max_output))?;
                write!(f, ", over its {}-token context window", thousands(*window))
            }
            Skip::Capability(c) => write!(f, "the model does not support {c}"),
            Skip::CircuitOpen => write!(f, "circuit open"),
        }
    }
}

/// `n` with a comma between each group of three digits (`157,755`).
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The output tokens assumed when the client sets no `max_tokens`, for cost estimates.
const TYPICAL_OUTPUT: u64 = 256;

impl Profile {
    /// Whether this target can take the request, and if not, why.
    pub fn fit(&self, needs: &Needs) -> Result<(), Skip> {
        if needs.tools && self.tools == Some(false) {
            return Err(Skip::Capability("tools"));
        }
        if needs.vision && self.vision == Some(false) {
            return Err(Skip::Capability("image input"));
        }
        if needs.json_schema && self.json_schema == Some(false) {
            return Err(Skip::Capability("JSON schema output"));
        }
        if let Some(window) = self.context_window {
            // The prompt alone must fit, plus the output the client asked for if it said;
            // a client that set no max_tokens gets what room is left.
            let needed = needs.prompt_tokens + needs.max_output.unwrap_or(0);
            if needed > window {
                return Err(Skip::ContextWindow {
                    prompt: needs.prompt_tokens,
                    max_output: needs.max_output,
                    window,
                });
            }
        }
        Ok(())
    }

    fn estimated_cost(&self, needs: &Needs) -> Option<f64> {
        let out = needs.max_output.unwrap_or(TYPICAL_OUTPUT) as f64;
        Some(self.input_cost? * needs.prompt_tokens as f64 + self.output_cost? * out)
    }
}

/// Orders `eligible` (indices into `targets`) by `strategy`.
pub(crate) fn order<M>(
    strategy: Strategy,
    targets: &[Target<M>],
    mut eligible: Vec<usize>,
    needs: &Needs,
) -> Vec<usize> {
    match strategy {
        Strategy::Fallback | Strategy::Cascade { config_order: true } => eligible,
        Strategy::Weighted => {
            let mut out = Vec::with_capacity(eligible.len());
            while !eligible.is_empty() {
                let total: u64 = eligible.iter().map(|&i| u64::from(targets[i].weight)).sum();
                let pick = if total == 0 {
                    0
                } else {
                    let mut r = rng::below(total);
                    eligible
                        .iter()
                        .position(|&i| {
                            let w = u64::from(targets[i].weight);
                            if r < w {
                                true
                            } else {
                                r -= w;
                                false
                            }
                        })
                        .unwrap_or(0)
                };
                out.push(eligible.remove(pick));
            }
            out
        }
        Strategy::LeastLatency => {
            // Never-measured first (in config order), then fastest first.
            eligible.sort_by(|&a, &b| {
                let la = targets[a].health.ewma_ms(needs.stream);
                let lb = targets[b].health.ewma_ms(needs.stream);
                match (la, lb) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Less,
                    (Some(_), None) => std::cmp::Ordering::Greater,
                    (Some(x), Some(y)) => x.total_cmp(&y),
                }
            });
            eligible
        }
        Strategy::LowestCost
        | Strategy::Cascade {
            config_order: false,
        } => {
            // Unpriced targets last: their cost is unknown, not zero.
            eligible.sort_by(|&a, &b| {
                let ca = targets[a].profile.estimated_cost(needs);
                let cb = targets[b].profile.estimated_cost(needs);
                match (ca, cb) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (Some(x), Some(y)) => x.total_cmp(&y),
                }
            });
            eligible
        }
    }
}
