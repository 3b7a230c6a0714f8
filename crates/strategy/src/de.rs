//! Lenient field decoders for hand-written TOML: numbers quoted or bare, dates quoted or bare.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;
use switchyard_primitives::Money;

/// `2`, `2.5` or `"2.5"` as an exact decimal.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    Money::deserialize(d).map(Money::decimal)
}

struct DateVisitor;

impl<'de> Visitor<'de> for DateVisitor {
    type Value = NaiveDate;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a date such as 2026-12-01")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<NaiveDate, E> {
        let day = v.get(..10).unwrap_or(v);
        NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| E::custom(format!("{v:?} is not a date; write YYYY-MM-DD")))
    }
    /// TOML date literals arrive as a one-entry map holding their text.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NaiveDate, A::Error> {
        let Some((_, text)) = map.next_entry::<String, String>()? else {
            return Err(de::Error::custom("empty date"));
        };
        self.visit_str(&text)
    }
}

/// `2026-12-01` or `"2026-12-01"`.
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    d.deserialize_any(DateVisitor)
}

pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    date(d).map(Some)
}
