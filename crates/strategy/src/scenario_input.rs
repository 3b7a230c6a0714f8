//! Scenario input checked before anything runs: the file format (every `[[change]]` parsed on
//! its own, so every error is reported at once at its own change and line), the values, and
//! the names (providers, models, workloads) against the catalog and the ledger.
//!
//! A name nothing knows is refused with the closest known names: a misspelt scenario would
//! otherwise price as "no change" and report a $0 delta that looks like an answer.

use crate::scenario::{Change, Scenario, default_horizon};
use crate::source::History;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeSet;
use switchyard_catalog::Catalog;
use switchyard_primitives::names::{closest, listed};

/// Where a change came from, so its errors point there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The `index`-th `[[change]]` of a file, whose header is on `line` (1-based) when known.
    File { index: usize, line: Option<usize> },
    /// A command-line flag and its value: `--move`, `W=nope/model-x`.
    Flag { flag: String, value: String },
}

impl Origin {
    /// `change[2].to (line 11)` or `--move "W=nope/model-x"`.
    fn at(&self, field: &str) -> String {
        match self {
            Origin::File { index, line } => {
                let line = line.map_or(String::new(), |l| format!(" (line {l})"));
                let field = if field.is_empty() {
                    String::new()
                } else {
                    format!(".{field}")
                };
                format!("change[{index}]{field}{line}")
            }
            Origin::Flag { flag, value } => format!("{flag} {value:?}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ScenarioError {
    pub path: String,
    pub message: String,
    /// The change it is about (`None`: the file as a whole), to list errors in file order.
    pub origin: Option<Origin>,
}

impl ScenarioError {
    /// Sorts `errs` as a reader meets them: the file's own, then each change in file order,
    /// then the flags in the order given.
    pub fn sort(errs: &mut [ScenarioError]) {
        errs.sort_by_key(|e| match &e.origin {
            None => (0, 0),
            Some(Origin::File { index, .. }) => (1, *index),
            Some(Origin::Flag { .. }) => (2, 0),
        });
    }
}

/// Closest names offered in an "unknown name" error.
const SUGGESTIONS: usize = 3;

impl Scenario {
    /// Parses and validates a scenario file; every error at once, each naming its change,
    /// field and line.
    pub fn from_toml(text: &str) -> Result<Scenario, Vec<ScenarioError>> {
        let (sc, mut errs) = Scenario::parse_toml(text);
        errs.extend(sc.validate());
        ScenarioError::sort(&mut errs);
        if errs.is_empty() { Ok(sc) } else { Err(errs) }
    }

    /// The changes of a scenario file that parse, and an error for each one that does not
    /// (values are checked by [`Scenario::validate`], names by [`Scenario::check_names`], so a
    /// caller can report every kind of error at once).
    pub fn parse_toml(text: &str) -> (Scenario, Vec<ScenarioError>) {
        let file_error = |message: String| ScenarioError {
            path: "(file)".into(),
            message,
            origin: None,
        };
        let mut table: toml::Table = match text.parse() {
            Ok(t) => t,
            Err(e) => {
                let e: toml::de::Error = e;
                return (Scenario::empty(), vec![file_error(e.to_string())]);
            }
        };
        let mut errs = Vec::new();
        let raw_changes = table.remove("change");
        let head = toml::Value::Table(table).try_into::<Head>();
        let head = head.unwrap_or_else(|e| {
            errs.push(file_error(e.message().to_string()));
            Head::default()
        });
        let lines = change_lines(text);
        let mut sc = Scenario {
            name: head.name,
            horizon_months: head.horizon_months,
            changes: Vec::new(),
            origins: Vec::new(),
        };
        let items = match raw_changes {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => items,
            Some(_) => {
                errs.push(file_error(
                    "`change` must be a list of [[change]] tables".into(),
                ));
                Vec::new()
            }
        };
        for (index, item) in items.into_iter().enumerate() {
            let origin = Origin::File {
                index,
                line: lines.get(index).copied(),
            };
            match parse_change(item, origin) {
                Ok((c, origin)) => {
                    sc.changes.push(c);
                    sc.origins.push(origin);
                }
                Err(e) => errs.push(e),
            }
        }
        (sc, errs)
    }

    fn empty() -> Scenario {
        Scenario {
            name: String::new(),
            horizon_months: default_horizon(),
            changes: Vec::new(),
            origins: Vec::new(),
        }
    }

    /// Where change `i` came from.
    pub fn origin(&self, i: usize) -> Origin {
        self.origins.get(i).cloned().unwrap_or(Origin::File {
            index: i,
            line: None,
        })
    }

    /// Values out of range, each at its change.
    pub fn validate(&self) -> Vec<ScenarioError> {
        let mut errs: Vec<ScenarioError> = (self.changes.iter().enumerate())
            .filter_map(|(i, c)| check_value(c, &self.origin(i)))
            .collect();
        errs.extend(self.check_horizon());
        errs
    }

    fn check_horizon(&self) -> Option<ScenarioError> {
        (self.horizon_months == 0 || self.horizon_months > 120).then(|| ScenarioError {
            path: "horizon_months".into(),
            message: "must be between 1 and 120".into(),
            origin: None,
        })
    }

    /// Names neither the catalog nor the ledger knows, each with the closest known ones.
    pub fn check_names(&self, h: &History, catalog: &Catalog) -> Vec<ScenarioError> {
        let known = Known::new(h, catalog);
        let mut errs = Vec::new();
        for (i, c) in self.changes.iter().enumerate() {
            for (field, problem) in known.problems(c) {
                errs.push(ScenarioError {
                    path: self.origin(i).at(field),
                    message: problem,
                    origin: Some(self.origin(i)),
                });
            }
        }
        errs
    }
}

/// One `[[change]]` table as a change, or the error at its origin.
fn parse_change(item: toml::Value, origin: Origin) -> Result<(Change, Origin), ScenarioError> {
    match item.try_into::<Change>() {
        Ok(c) => Ok((c, origin)),
        Err(e) => Err(ScenarioError {
            path: origin.at(""),
            message: e.message().trim().to_string(),
            origin: Some(origin),
        }),
    }
}

/// The value out of range in `c`, if any.
fn check_value(c: &Change, origin: &Origin) -> Option<ScenarioError> {
    let (field, message) = match c {
        Change::Price { factor, .. } if *factor < Decimal::ZERO => {
            ("factor", "must be ≥ 0 (2 doubles prices, 0.5 halves them)")
        }
        Change::Growth { monthly } if *monthly <= Decimal::NEGATIVE_ONE => (
            "monthly",
            "must be greater than −1 (−0.1 is a 10 % monthly decline)",
        ),
        Change::Move { to, .. } if !to.contains('/') => (
            "to",
            "must be provider/model as in `switchyard catalog list`",
        ),
        _ => return None,
    };
    Some(ScenarioError {
        path: origin.at(field),
        message: message.into(),
        origin: Some(origin.clone()),
    })
}

/// The top level of a scenario file, without its changes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    name: String,
    #[serde(default = "default_horizon")]
    horizon_months: u32,
}

impl Default for Head {
    fn default() -> Self {
        Head {
            name: String::new(),
            horizon_months: default_horizon(),
        }
    }
}

/// The line (1-based) of each `[[change]]` header, in order.
fn change_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let compact: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            compact.starts_with("[[change]]")
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// Every name a scenario may use: providers, models (`id` and `provider/id`) and workloads.
struct Known<'a> {
    catalog: &'a Catalog,
    providers: BTreeSet<String>,
    models: BTreeSet<String>,
    targets: BTreeSet<String>,
    workloads: BTreeSet<String>,
}

impl<'a> Known<'a> {
    fn new(h: &History, catalog: &'a Catalog) -> Known<'a> {
        let mut k = Known {
            catalog,
            providers: BTreeSet::new(),
            models: BTreeSet::new(),
            targets: catalog.models().iter().map(|m| m.key()).collect(),
            workloads: h.rows.iter().map(|r| r.workload.clone()).collect(),
        };
        for m in catalog.models() {
            k.providers.insert(m.provider.clone());
            k.models.insert(m.id.clone());
            k.models.extend(m.aliases.iter().cloned());
        }
        for r in &h.rows {
            k.providers.insert(r.provider.clone());
            k.models.insert(r.model.clone());
            k.models.insert(format!("{}/{}", r.provider, r.model));
        }
        k
    }

    /// (field, message) for each unknown name in `c`.
    fn problems(&self, c: &Change) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        match c {
            Change::Price { provider, .. } if !self.providers.contains(provider) => {
                out.push(("provider", unknown("provider", provider, &self.providers)));
            }
            Change::Retire {
                model, replacement, ..
            } => {
                if !self.models.contains(model) && !self.targets.contains(model) {
                    out.push(("model", unknown("model", model, &self.models)));
                }
                if let Some(r) = replacement.as_deref().filter(|r| !self.resolves(r)) {
                    out.push(("replacement", unknown("model", r, &self.targets)));
                }
            }
            Change::Move { workload, to, .. } => {
                if !self.workloads.contains(workload) {
                    let why = "the ledger has no traffic for it";
                    out.push((
                        "workload",
                        unknown_as("workload", workload, &self.workloads, why),
                    ));
                }
                if to.contains('/') && !self.resolves(to) {
                    out.push(("to", unknown("model", to, &self.targets)));
                }
            }
            _ => {}
        }
        out
    }

    fn resolves(&self, name: &str) -> bool {
        crate::scenario::resolve(self.catalog, name).is_some()
    }
}

/// `unknown provider "x" (…); closest known: "a", "b" or "c"`.
fn unknown(what: &str, name: &str, known: &BTreeSet<String>) -> String {
    unknown_as(
        what,
        name,
        known,
        "neither the catalog nor the ledger knows it",
    )
}

fn unknown_as(what: &str, name: &str, known: &BTreeSet<String>, why: &str) -> String {
    let near = closest(name, known.iter().map(String::as_str), SUGGESTIONS);
    format!(
        "unknown {what} {name:?} ({why}); closest known: {}",
        listed(&near)
    )
}
