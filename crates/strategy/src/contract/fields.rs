//! Reading typed fields out of a raw TOML table while collecting every error with its path.
//!
//! The raw stage of "parse, don't validate": a [`Fields`] wraps one table at a path such as
//! `offers[1].commit`; each getter removes its key, converts it, and on failure records an
//! error naming `offers[1].commit.discount` instead of stopping. [`Fields::finish`] reports the
//! keys nobody asked for, so a typo is an error, not a silently ignored term.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;

/// One problem in a contract file, at a field path such as `offers[1].commit.discount`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ContractError {
    pub path: String,
    pub message: String,
}

/// Every problem found in a contract file, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Render(.0))]
pub struct ContractErrors(pub Vec<ContractError>);

struct Render<'a>(&'a [ContractError]);

impl fmt::Display for Render<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} contract error(s):", self.0.len())?;
        for e in self.0 {
            write!(f, "\n  - {e}")?;
        }
        Ok(())
    }
}

/// Collects errors while walking the document.
#[derive(Debug, Default)]
pub(crate) struct Errors(pub Vec<ContractError>);

impl Errors {
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ContractError {
            path: path.into(),
            message: message.into(),
        });
    }
}

/// One TOML table being read at `path`.
pub(crate) struct Fields<'e> {
    pub path: String,
    table: toml::Table,
    pub errs: &'e mut Errors,
}

impl<'e> Fields<'e> {
    pub fn new(path: String, table: toml::Table, errs: &'e mut Errors) -> Self {
        Fields { path, table, errs }
    }

    /// `path.key`, for error messages.
    pub fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        let path = self.at(key);
        self.errs.push(path, message);
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    pub fn take(&mut self, key: &str) -> Option<toml::Value> {
        self.table.remove(key)
    }

    /// Records "is required" for each of `keys` that is absent. Call before reading them.
    pub fn require(&mut self, keys: &[&str]) {
        for key in keys {
            if !self.table.contains_key(*key) {
                self.error(key, "is required");
            }
        }
    }

    pub fn string(&mut self, key: &str) -> Option<String> {
        match self.take(key)? {
            toml::Value::String(s) if !s.trim().is_empty() => Some(s),
            toml::Value::String(_) => {
                self.error(key, "must not be empty");
                None
            }
            other => {
                self.error(key, format!("must be a string, not {}", other.type_str()));
                None
            }
        }
    }

    /// One of `options` by name; absent means the first option (the default).
    pub fn choice<T: Copy>(&mut self, key: &str, options: &[(&str, T)]) -> Option<T> {
        if !self.has(key) {
            return options.first().map(|o| o.1);
        }
        let name = self.string(key)?;
        let found = options.iter().find(|(n, _)| *n == name).map(|o| o.1);
        if found.is_none() {
            let names: Vec<String> = options.iter().map(|(n, _)| format!("{n:?}")).collect();
            self.error(key, format!("is {name:?}; use {}", names.join(" or ")));
        }
        found
    }

    /// A decimal written as `0.15`, `15000`, or `"0.15"` (exact).
    pub fn decimal(&mut self, key: &str) -> Option<Decimal> {
        let v = self.take(key)?;
        let parsed = match &v {
            toml::Value::Integer(i) => Some(Decimal::from(*i)),
            // Shortest round-trip text of the float, so 0.15 stays 0.15 and not 0.1499….
            toml::Value::Float(f) if f.is_finite() => parse_decimal(&f.to_string()),
            toml::Value::String(s) => parse_decimal(s),
            _ => None,
        };
        if parsed.is_none() {
            self.error(
                key,
                format!("must be a number such as 0.15 or 10000, not {}", shown(&v)),
            );
        }
        parsed
    }

    /// A decimal checked against `[lo, hi]` (or `[lo, hi)` when `hi_open`).
    pub fn bounded(
        &mut self,
        key: &str,
        lo: Decimal,
        hi: Option<(Decimal, bool)>,
    ) -> Option<Decimal> {
        let d = self.decimal(key)?;
        let above_hi = match hi {
            Some((h, true)) => d >= h,
            Some((h, false)) => d > h,
            None => false,
        };
        if d < lo || above_hi {
            let range = match hi {
                Some((h, true)) => format!("at least {lo} and below {h}"),
                Some((h, false)) => format!("between {lo} and {h}"),
                None => format!("at least {lo}"),
            };
            self.error(key, format!("is {d}; it must be {range}"));
            return None;
        }
        Some(d)
    }

    /// A fraction in `[0, 1)`: a discount of 1 would make usage free and divide by zero.
    pub fn discount(&mut self, key: &str) -> Option<Decimal> {
        self.bounded(key, Decimal::ZERO, Some((Decimal::ONE, true)))
    }

    /// A fraction in `[0, 1]`.
    pub fn fraction(&mut self, key: &str) -> Option<Decimal> {
        self.bounded(key, Decimal::ZERO, Some((Decimal::ONE, false)))
    }

    pub fn integer(&mut self, key: &str, lo: i64, hi: i64) -> Option<i64> {
        match self.take(key)? {
            toml::Value::Integer(i) if (lo..=hi).contains(&i) => Some(i),
            toml::Value::Integer(i) => {
                self.error(key, format!("is {i}; it must be between {lo} and {hi}"));
                None
            }
            other => {
                self.error(
                    key,
                    format!("must be a whole number, not {}", other.type_str()),
                );
                None
            }
        }
    }

    /// A date written as `2026-01-01` (TOML date) or `"2026-01-01"`.
    pub fn date(&mut self, key: &str) -> Option<NaiveDate> {
        let v = self.take(key)?;
        let parsed = match &v {
            toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
                dt.date.and_then(|d| {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                })
            }
            toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.error(
                key,
                format!("must be a date written YYYY-MM-DD, not {}", shown(&v)),
            );
        }
        parsed
    }

    /// A nested table, read at `path.key`.
    pub fn table(&mut self, key: &str) -> Option<toml::Table> {
        match self.take(key)? {
            toml::Value::Table(t) => Some(t),
            other => {
                self.error(key, format!("must be a table, not {}", other.type_str()));
                None
            }
        }
    }

    /// An array of tables, each with its index, read at `path.key[i]`.
    pub fn tables(&mut self, key: &str) -> Vec<(String, toml::Table)> {
        let Some(v) = self.take(key) else {
            return Vec::new();
        };
        let toml::Value::Array(items) = v else {
            self.error(
                key,
                format!("must be an array of tables, not {}", v.type_str()),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let path = format!("{}[{i}]", self.at(key));
            match item {
                toml::Value::Table(t) => out.push((path, t)),
                other => self
                    .errs
                    .push(path, format!("must be a table, not {}", other.type_str())),
            }
        }
        out
    }

    /// Reports every key that was not read: unknown keys are typos, never ignored.
    pub fn finish(self, known: &[&str]) {
        for key in self.table.keys() {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            self.errs.push(
                path,
                format!("unknown key; expected one of {}", known.join(", ")),
            );
        }
    }
}

fn parse_decimal(s: &str) -> Option<Decimal> {
    let s = s.trim();
    Decimal::from_str(s)
        .or_else(|_| Decimal::from_scientific(s))
        .ok()
}

/// A value as the author wrote it, for error messages (scalars), or its TOML type.
fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{s:?}"),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        other => format!("a {}", other.type_str()),
    }
}
