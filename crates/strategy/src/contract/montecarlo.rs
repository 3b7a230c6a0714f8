//! Usage paths: a seeded generator, and how observed history plus forecast growth map onto an
//! offer's contract months.
//!
//! - Generator: splitmix64 (a 64-bit counter through a bit mixer) feeding Box–Muller for
//!   standard normal draws. Each path gets its own stream derived from `(seed, path index)`,
//!   so a path's draws do not depend on how many paths run or in what order.
//! - A contract month at or before the last observed month uses the observation (a backtest);
//!   a later month `k` months after it is `last × Π_{i=1..k} max(0, 1 + mean + vol·z_i)`.
//!   Draws are indexed by calendar month after the last observation, so offers with different
//!   start dates share the same path.
//! - Draws are `f64` (Box–Muller needs `ln`, `sqrt`, `cos`) and enter the decimal arithmetic
//!   rounded to 9 places and clamped to ±10 σ; all money arithmetic stays decimal. The
//!   cumulative factor is rounded to 12 places and a month's usage is capped at $10^15 so a
//!   wild path cannot overflow 28-digit decimals.

use super::billing::Month;
use super::inputs::{GrowthModel, SimError, UsageHistory};
use super::terms::Offer;
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use switchyard_primitives::Money;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
const FACTOR_CAP: Decimal = Decimal::from_parts(0xA764_0000, 0x0DE0_B6B3, 0, false, 0); // 10^18
const USAGE_CAP: Decimal = Decimal::from_parts(0xA4C6_8000, 0x0003_8D7E, 0, false, 0); // 10^15

/// splitmix64: tiny, fast, and good enough for Monte Carlo draws (not for secrets).
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on (0, 1]: never 0, so `ln` stays finite.
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

/// Standard normal draws by Box–Muller; each pair of uniforms yields two draws.
#[derive(Debug, Clone)]
pub(crate) struct Normal {
    rng: SplitMix64,
    spare: Option<f64>,
}

impl Normal {
    /// The stream of path `path` under `seed`.
    pub fn for_path(seed: u64, path: u32) -> Normal {
        let mut mixer =
            SplitMix64::new(seed ^ u64::from(path).wrapping_mul(GOLDEN).rotate_left(17));
        Normal {
            rng: SplitMix64::new(mixer.next_u64()),
            spare: None,
        }
    }

    pub fn draw(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let r = (-2.0 * self.rng.unit().ln()).sqrt();
        let theta = std::f64::consts::TAU * self.rng.unit();
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }

    /// A draw as a decimal with 9 places, clamped to ±10.
    pub fn draw_decimal(&mut self) -> Decimal {
        let z = self.draw().clamp(-10.0, 10.0);
        Decimal::new((z * 1e9).round() as i64, 9)
    }
}

/// Where one contract month's usage comes from.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Observed(Money),
    /// This many months after the last observation.
    Forecast(u32),
}

/// An offer's contract months laid over the usage history.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    dates: Vec<NaiveDate>,
    slots: Vec<Slot>,
    last: Money,
    steps: u32,
}

impl Plan {
    pub fn new(offer: &Offer, usage: &UsageHistory) -> Result<Plan, SimError> {
        let mut history = BTreeMap::new();
        for (index, &(day, amount)) in usage.monthly.iter().enumerate() {
            if amount < Money::ZERO {
                return Err(SimError::NegativeUsage { index, amount });
            }
            *history.entry(first_of_month(day)).or_insert(Money::ZERO) += amount;
        }
        let (&last_month, &last) = history.last_key_value().ok_or(SimError::EmptyHistory)?;
        let out_of_range = || SimError::DateOutOfRange {
            offer: offer.name.clone(),
        };
        let (mut dates, mut slots, mut steps) = (Vec::new(), Vec::new(), 0);
        for m in 0..offer.term_months {
            let date = first_of_month(offer.start)
                .checked_add_months(Months::new(m))
                .ok_or_else(out_of_range)?;
            let slot = if date <= last_month {
                Slot::Observed(*history.get(&date).ok_or_else(|| SimError::HistoryGap {
                    offer: offer.name.clone(),
                    month: date,
                })?)
            } else {
                let k = months_between(last_month, date);
                steps = steps.max(k);
                Slot::Forecast(k)
            };
            dates.push(date);
            slots.push(slot);
        }
        Ok(Plan {
            dates,
            slots,
            last,
            steps,
        })
    }

    /// On-demand-equivalent cost of the last observed month.
    pub fn last(&self) -> Money {
        self.last
    }

    /// Usage of path `path`.
    pub fn path(&self, growth: &GrowthModel, seed: u64, path: u32) -> Vec<Month> {
        let mut normal = Normal::for_path(seed, path);
        let step_factor = |z: Decimal| {
            (Decimal::ONE + growth.monthly_growth_mean + growth.monthly_growth_volatility * z)
                .max(Decimal::ZERO)
        };
        let mut factors = Vec::with_capacity(self.steps as usize);
        let mut f = Decimal::ONE;
        for _ in 0..self.steps {
            f = (f * step_factor(normal.draw_decimal()))
                .round_dp(12)
                .min(FACTOR_CAP);
            factors.push(f);
        }
        self.months(|k| {
            let f = factors.get(k as usize - 1).copied().unwrap_or(Decimal::ONE);
            let u = self
                .last
                .0
                .checked_mul(f)
                .unwrap_or(USAGE_CAP)
                .min(USAGE_CAP);
            Money(u)
        })
    }

    /// Every contract month at the same usage `x` (observations ignored): for break-even.
    pub fn flat(&self, x: Money) -> Vec<Month> {
        self.dates
            .iter()
            .map(|&date| Month { date, on_demand: x })
            .collect()
    }

    fn months(&self, forecast: impl Fn(u32) -> Money) -> Vec<Month> {
        self.dates
            .iter()
            .zip(&self.slots)
            .map(|(&date, slot)| Month {
                date,
                on_demand: match *slot {
                    Slot::Observed(u) => u,
                    Slot::Forecast(k) => forecast(k),
                },
            })
            .collect()
    }
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// Whole months from `a` to `b` (both 1sts of a month).
fn months_between(a: NaiveDate, b: NaiveDate) -> u32 {
    let diff = (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32;
    u32::try_from(diff).unwrap_or(0)
}

/// Nearest-rank percentile index into `n` sorted values: `ceil(p·n/100) − 1`.
pub(crate) fn rank(n: usize, percent: u32) -> usize {
    (n * percent as usize)
        .div_ceil(100)
        .saturating_sub(1)
        .min(n.saturating_sub(1))
}
