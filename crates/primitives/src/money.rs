//! `Money`: US dollars as an exact decimal. Never a float.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Sub};
use std::str::FromStr;

/// An amount of US dollars, exact to 28 significant digits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Money(pub Decimal);

#[derive(Debug, thiserror::Error)]
#[error("`{input}` is not a decimal amount (write it like \"2.50\")")]
pub struct MoneyParseError {
    pub input: String,
}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn new(d: Decimal) -> Self {
        Money(d)
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// The cost of `tokens` at `per_million` dollars per million tokens.
    pub fn per_million(per_million: Money, tokens: u64) -> Money {
        if tokens == 0 {
            return Money::ZERO;
        }
        Money(per_million.0 * Decimal::from(tokens) / Decimal::from(1_000_000u32))
    }

    /// Rounded for display and for headers: at most 10 decimal places, no trailing zeros.
    pub fn display_rounded(self) -> String {
        self.0.round_dp(10).normalize().to_string()
    }

    /// Rounded to whole cents (banker's rounding), for amounts shown to people.
    pub fn round_cents(self) -> Money {
        Money(self.0.round_dp(2).normalize())
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl FromStr for Money {
    type Err = MoneyParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_str(s.trim())
            .or_else(|_| Decimal::from_scientific(s.trim()))
            .map(Money)
            .map_err(|_| MoneyParseError {
                input: s.to_string(),
            })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.display_rounded())
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Mul<Decimal> for Money {
    type Output = Money;
    fn mul(self, rhs: Decimal) -> Money {
        Money(self.0 * rhs)
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

/// Accepts `"2.50"` (preferred, exact), `2.5` or `2`: config authors write all three.
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal amount such as \"2.50\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                Money::from_str(v).map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Money, E> {
                // Shortest round-trip text of the float, so 2.5 stays 2.5 and not 2.4999….
                Money::from_str(&v.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Money, E> {
                Ok(Money(Decimal::from(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Money, E> {
                Ok(Money(Decimal::from(v)))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_million_is_exact() {
        // 1,234 tokens at $2.50 per million = 1234 * 2.5 / 1e6 = 0.003085
        let m = Money::per_million(Money::from_str("2.50").unwrap(), 1234);
        assert_eq!(m.to_string(), "0.003085");
    }

    #[test]
    fn parses_scientific_and_plain() {
        assert_eq!(Money::from_str("1.5e-7").unwrap().to_string(), "0.00000015");
        assert!(Money::from_str("two dollars").is_err());
    }

    #[test]
    fn deserializes_floats_without_binary_noise() {
        #[derive(Deserialize)]
        struct T {
            a: Money,
            b: Money,
            c: Money,
        }
        let t: T = serde_json::from_str(r#"{"a":0.1,"b":"0.3","c":3}"#).unwrap();
        assert_eq!((t.a + t.b + t.c).to_string(), "3.4");
    }
}
