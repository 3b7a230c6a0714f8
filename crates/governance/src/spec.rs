//! What an operator asks of a virtual key: who it belongs to, where it may go, how much it may
//! spend and how fast. Parsed with serde, then validated with every problem reported at once.

use crate::Period;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use switchyard_primitives::Money;

/// Longest accepted name, team, workload or route name, in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// Most routes one key may be restricted to.
pub const MAX_ROUTES: usize = 256;

/// The settings of a virtual key (everything but its identity and secret).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// Route names the key may call; empty means every route.
    #[serde(default)]
    pub allowed_routes: Vec<String>,
    #[serde(default)]
    pub budgets: Vec<Budget>,
    /// Requests per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u32>,
    /// Tokens (prompt + completion) per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A spending limit over one period. A hard budget refuses requests that could exceed it; a
/// soft one only warns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub period: Period,
    pub limit_usd: Money,
    #[serde(default = "hard_by_default")]
    pub hard: bool,
}

fn hard_by_default() -> bool {
    true
}

/// One thing wrong with a [`KeySpec`], naming its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

/// Every problem found in a [`KeySpec`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid key settings:")?;
        for p in &self.problems {
            write!(f, "\n  {}: {}", p.field, p.message)?;
        }
        Ok(())
    }
}

impl KeySpec {
    /// Checks every field and reports all problems together.
    pub fn validate(&self) -> Result<(), SpecError> {
        let mut problems = Vec::new();
        let mut push = |field: String, message: String| problems.push(Problem { field, message });
        for (field, value) in [
            ("name", &self.name),
            ("team", &self.team),
            ("workload", &self.workload),
        ] {
            if let Some(v) = value {
                if let Some(msg) = name_problem(v) {
                    push(field.into(), msg);
                }
            }
        }
        if self.allowed_routes.len() > MAX_ROUTES {
            push(
                "allowed_routes".into(),
                format!("at most {MAX_ROUTES} routes; leave it empty to allow every route"),
            );
        }
        for (i, route) in self.allowed_routes.iter().enumerate() {
            if let Some(msg) = name_problem(route) {
                push(format!("allowed_routes[{i}]"), msg);
            } else if self.allowed_routes[..i].contains(route) {
                push(
                    format!("allowed_routes[{i}]"),
                    format!("`{route}` is listed twice"),
                );
            }
        }
        for (i, b) in self.budgets.iter().enumerate() {
            if b.limit_usd.decimal() <= rust_decimal::Decimal::ZERO {
                push(
                    format!("budgets[{i}].limit_usd"),
                    format!(
                        "must be above zero (got {}); revoke the key to block it",
                        b.limit_usd
                    ),
                );
            }
            if self.budgets[..i].iter().any(|o| o.period == b.period) {
                push(
                    format!("budgets[{i}].period"),
                    format!("a {} budget is already set; keep one per period", b.period),
                );
            }
        }
        if self.rpm == Some(0) {
            push(
                "rpm".into(),
                "must be at least 1; omit it for no limit".into(),
            );
        }
        if self.tpm == Some(0) {
            push(
                "tpm".into(),
                "must be at least 1; omit it for no limit".into(),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SpecError { problems })
        }
    }
}

fn name_problem(v: &str) -> Option<String> {
    if v.trim().is_empty() {
        Some("must not be empty; omit it instead".into())
    } else if v.chars().count() > MAX_NAME_CHARS {
        Some(format!("at most {MAX_NAME_CHARS} characters"))
    } else if v.chars().any(char::is_control) {
        Some("must not contain control characters".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_json_with_hard_defaulting_to_true() {
        let spec: KeySpec = serde_json::from_str(
            r#"{"name":"ci","budgets":[{"period":"day","limit_usd":"5"},
                {"period":"month","limit_usd":100,"hard":false}],"rpm":60}"#,
        )
        .unwrap();
        assert!(spec.budgets[0].hard);
        assert!(!spec.budgets[1].hard);
        assert_eq!(spec.budgets[1].limit_usd.to_string(), "100");
        assert!(spec.allowed_routes.is_empty());
        assert!(spec.validate().is_ok());
        assert!(serde_json::from_str::<KeySpec>(r#"{"nmae":"typo"}"#).is_err());
    }

    #[test]
    fn validation_reports_every_problem_with_its_field() {
        let spec = KeySpec {
            name: Some("x".repeat(MAX_NAME_CHARS + 1)),
            team: Some("  ".into()),
            allowed_routes: vec!["chat".into(), "chat".into()],
            budgets: vec![
                Budget {
                    period: Period::Day,
                    limit_usd: Money::ZERO,
                    hard: true,
                },
                Budget {
                    period: Period::Day,
                    limit_usd: "-1".parse().unwrap(),
                    hard: true,
                },
            ],
            rpm: Some(0),
            tpm: Some(0),
            ..KeySpec::default()
        };
        let err = spec.validate().unwrap_err();
        let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "team",
                "allowed_routes[1]",
                "budgets[0].limit_usd",
                "budgets[1].limit_usd",
                "budgets[1].period",
                "rpm",
                "tpm"
            ]
        );
        assert!(err.to_string().contains("rpm: must be at least 1"));
    }
}
