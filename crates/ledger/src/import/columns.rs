//! The names each import format reads, and the check that a file holds no other: a misspelt
//! column (`cost_us` for `cost_usd`) would otherwise be ignored, and the row silently imported
//! with a different result (re-priced from the catalog, a token kind at 0).
//!
//! Per format (docs/import.md#unknown-columns):
//! - generic: every column must be one the format reads (user-written files);
//! - litellm: the columns it reads, plus an explicit list of `LiteLLM_SpendLogs` columns that
//!   are known and not needed (request and response bodies, IP addresses, …);
//! - openai / anthropic: every field of a result holding a number, an object or an array must
//!   be known (nested ones as `parent.child`); text, boolean and null fields are grouping
//!   dimensions, which change no count or cost, and are accepted.
//!
//! `--ignore-column NAME` accepts an unknown name on purpose; naming a column the format reads
//! is refused, since it would not be left out.

use super::table::Row;
use super::{Location, RowError};
use serde_json::Value;

/// What one format (or one kind of row) knows.
pub(crate) struct Known {
    /// Names the format reads.
    pub read: &'static [&'static str],
    /// Names it knows and leaves out on purpose (a vendor's extra columns).
    pub irrelevant: &'static [&'static str],
}

impl Known {
    fn knows(&self, name: &str) -> bool {
        self.read.contains(&name) || self.irrelevant.contains(&name)
    }
}

/// One name the format does not know, where it first appears, and the closest known name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unknown {
    pub name: String,
    pub at: Location,
    pub nearest: Option<&'static str>,
}

/// The unknown names found so far (each once, first place first) and the ones to accept.
#[derive(Default)]
pub(crate) struct Columns {
    ignored: Vec<String>,
    found: Vec<Unknown>,
}

impl Columns {
    pub(crate) fn new(ignored: &[String]) -> Self {
        Columns {
            ignored: ignored.to_vec(),
            found: Vec::new(),
        }
    }

    /// Notes `name` (at `at`) unless `known` has it or the caller ignores it.
    pub(crate) fn check(&mut self, known: &Known, name: &str, at: &Location) {
        if known.knows(name)
            || self.ignored.iter().any(|i| i == name)
            || self.found.iter().any(|u| u.name == name)
        {
            return;
        }
        self.found.push(Unknown {
            name: name.to_string(),
            at: at.clone(),
            nearest: nearest(name, known.read),
        });
    }

    /// Checks a row's columns, reported at the CSV header (line 1) or at the JSON line. An
    /// object whose name has known members (`usage` → `usage.input`) has them checked too.
    pub(crate) fn check_row(&mut self, known: &Known, row: &Row, jsonl: bool) {
        let at = if jsonl {
            row.at.clone()
        } else {
            Location::Line(1)
        };
        for (name, v) in &row.fields {
            // An unnamed CSV column (a trailing comma) is only a problem when it holds data.
            if name.is_empty() && row.text(name).is_none() {
                continue;
            }
            self.check(known, name, &at);
            let prefix = format!("{name}.");
            if let Value::Object(inner) = v {
                if known.read.iter().any(|k| k.starts_with(&prefix)) {
                    for child in inner.keys() {
                        self.check(known, &format!("{prefix}{child}"), &at);
                    }
                }
            }
        }
    }

    /// Checks every field of an API result that could carry a count: numbers, objects (their
    /// members too, as `parent.child`, when the parent is known) and arrays.
    pub(crate) fn check_result(&mut self, known: &Known, result: &Value, at: &Location) {
        let Value::Object(fields) = result else {
            return;
        };
        for (name, v) in fields {
            match v {
                Value::Number(_) | Value::Array(_) => self.check(known, name, at),
                Value::Object(inner) => {
                    self.check(known, name, at);
                    if known.knows(name) {
                        for (child, cv) in inner {
                            if !matches!(cv, Value::String(_) | Value::Bool(_) | Value::Null) {
                                self.check(known, &format!("{name}.{child}"), at);
                            }
                        }
                    }
                }
                Value::String(_) | Value::Bool(_) | Value::Null => {}
            }
        }
    }

    /// The problems to report, unknown names first: each unknown name, and each
    /// `--ignore-column` that names a column one of `formats` reads.
    pub(crate) fn into_errors(self, formats: &[&Known]) -> Vec<RowError> {
        let mut out: Vec<RowError> = self
            .ignored
            .iter()
            .filter(|i| formats.iter().any(|k| k.read.contains(&i.as_str())))
            .map(|i| RowError {
                at: Location::Path("--ignore-column".into()),
                message: format!(
                    "{i:?} is a column this format reads, so it cannot be ignored; delete the column from the file to leave it out"
                ),
            })
            .collect();
        out.extend(self.found.into_iter().map(|u| {
            let hint = u
                .nearest
                .map_or_else(String::new, |n| format!(" (did you mean {n:?}?)"));
            RowError {
                at: u.at,
                message: format!(
                    "unknown column {:?}{hint}; rename it to the column it stands for (docs/import.md lists them), or pass --ignore-column {} to import without it",
                    u.name,
                    shell_word(&u.name)
                ),
            }
        }));
        out
    }
}

/// `name` as it would be typed on a command line.
fn shell_word(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c))
    {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}

/// The known name with the smallest edit distance to `name` (case-insensitive), if any is
/// within half of the longer name's length; among equals, the one sharing most `_`-separated
/// words (`cached_tokens` → `cached_input_tokens`, not `input_tokens`), then the first listed.
fn nearest(name: &str, known: &'static [&'static str]) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(['_', '.']).collect();
    known
        .iter()
        .map(|k| {
            let k_lower = k.to_ascii_lowercase();
            let shared = k_lower
                .split(['_', '.'])
                .filter(|w| words.contains(w))
                .count();
            (
                switchyard_primitives::names::distance(&lower, &k_lower),
                std::cmp::Reverse(shared),
                *k,
            )
        })
        .filter(|(d, _, k)| *d * 2 <= lower.chars().count().max(k.chars().count()))
        .min_by_key(|(d, shared, _)| (*d, *shared))
        .map(|(_, _, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: Known = Known {
        read: &["cost_usd", "input_tokens", "output_tokens", "ts"],
        irrelevant: &["messages"],
    };

    #[test]
    fn a_misspelt_column_is_reported_once_with_the_nearest_known_name() {
        let mut c = Columns::new(&[]);
        c.check(&K, "cost_us", &Location::Line(1));
        c.check(&K, "cost_us", &Location::Line(2));
        c.check(&K, "messages", &Location::Line(1));
        c.check(&K, "zzzzzzzzzz", &Location::Line(3));
        let errs = c.into_errors(&[&K]);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0].at, Location::Line(1));
        assert!(
            errs[0]
                .message
                .contains(r#"unknown column "cost_us" (did you mean "cost_usd"?)"#)
                && errs[0].message.contains("--ignore-column cost_us"),
            "{}",
            errs[0].message
        );
        assert!(
            !errs[1].message.contains("did you mean"),
            "{}",
            errs[1].message
        );
    }

    #[test]
    fn ignored_columns_pass_but_a_known_one_cannot_be_ignored() {
        let mut c = Columns::new(&["note".into(), "cost_usd".into()]);
        c.check(&K, "note", &Location::Line(1));
        let errs = c.into_errors(&[&K]);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].message.contains("cannot be ignored"));
    }

    #[test]
    fn api_results_check_counts_and_objects_but_not_text_dimensions() {
        const API: Known = Known {
            read: &[
                "output_tokens",
                "cache_creation",
                "cache_creation.ephemeral_5m_input_tokens",
            ],
            irrelevant: &[],
        };
        let result = serde_json::json!({"output_tokens": 1, "output_tokenz": 2, "region": "eu",
            "cache_creation": {"ephemeral_5m_input_tokens": 1, "ephemeral_1h_input_tokenz": 3}});
        let mut c = Columns::new(&[]);
        c.check_result(&API, &result, &Location::Path("data[0].results[0]".into()));
        let mut names: Vec<String> = c.found.iter().map(|u| u.name.clone()).collect();
        names.sort();
        assert_eq!(
            names,
            ["cache_creation.ephemeral_1h_input_tokenz", "output_tokenz"]
        );
    }
}
