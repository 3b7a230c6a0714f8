//! Importing existing usage history: our own export (and any CSV/JSONL with the documented
//! columns), LiteLLM spend logs, OpenAI's organization usage (and costs) export, and
//! Anthropic's usage (and cost) report. Formats and mappings: docs/import.md.
//!
//! Invariants:
//! - All or nothing: every row is validated first and every bad row is reported, each with
//!   its line (or JSON path); only a file without errors is appended, in one call to
//!   [`RecordSink::append`](crate::RecordSink::append), which is one transaction.
//! - Idempotent: rows without an id get a deterministic one ([`derive_id`]), so importing the
//!   same file twice imports nothing the second time (`INSERT OR IGNORE`).
//! - Rows without a cost are priced from the catalog at the row's date; rows the catalog
//!   cannot price are imported without a cost and listed in the report.

mod anthropic;
mod columns;
mod costs;
mod fields;
mod generic;
mod input;
mod litellm;
mod openai;
mod pricing;
mod report;
mod table;

use crate::{LedgerError, Record, RecordKind, Store};
use chrono::{DateTime, Utc};
use input::Input;
use std::collections::BTreeSet;
use std::fmt;
use switchyard_catalog::Catalog;
use switchyard_primitives::{Money, TokenUsage};

/// The input formats `switchyard ledger import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// CSV or JSONL with the documented columns; our own export is one.
    Generic,
    /// LiteLLM's `LiteLLM_SpendLogs` table as CSV, JSONL or a JSON array.
    Litellm,
    /// `GET /v1/organization/usage/completions` pages, optionally with `/costs` pages.
    Openai,
    /// `GET /v1/organizations/usage_report/messages` pages, optionally with cost reports.
    Anthropic,
}

impl ImportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Generic => "generic",
            ImportFormat::Litellm => "litellm",
            ImportFormat::Openai => "openai",
            ImportFormat::Anthropic => "anthropic",
        }
    }
}

impl std::str::FromStr for ImportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "generic" | "csv" | "jsonl" => Ok(ImportFormat::Generic),
            "litellm" => Ok(ImportFormat::Litellm),
            "openai" => Ok(ImportFormat::Openai),
            "anthropic" => Ok(ImportFormat::Anthropic),
            _ => Err(format!(
                "unknown import format {s:?}; use generic, litellm, openai or anthropic"
            )),
        }
    }
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the caller decides for the whole file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `None`: detected from the content.
    pub format: Option<ImportFormat>,
    /// For rows that name no workload.
    pub workload: Option<String>,
    /// For rows that name no provider.
    pub provider: Option<String>,
    /// Columns (or fields) the format does not know, to import without on purpose
    /// (`--ignore-column`); any other unknown column is an error.
    pub ignore_columns: Vec<String>,
}

/// Where in the input a problem is: a line (CSV, JSONL) or a JSON path (API exports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Line(usize),
    Path(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Path(p) => write!(f, "{p}"),
        }
    }
}

/// One bad row (or field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub at: Location,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Unrecognised(String),
    #[error("{} problem(s) in the {format} import; nothing was imported. Fix them and run the import again:\n{}", errors.len(), list(errors))]
    Invalid {
        format: ImportFormat,
        errors: Vec<RowError>,
    },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

fn list(errors: &[RowError]) -> String {
    errors
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The validated content of a file, ready to append.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub format: ImportFormat,
    pub records: Vec<Record>,
    /// `provider/model` of rows imported without a cost (the catalog does not know them).
    pub unpriced: BTreeSet<String>,
    /// Facts the user should know (cost lines that matched no usage, …).
    pub notes: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub format: ImportFormat,
    /// Records read from the file.
    pub read: u64,
    /// New records appended (for a dry run: that would be appended).
    pub imported: u64,
    /// Records already in the ledger (or repeated in the file), skipped.
    pub duplicates: u64,
    /// Requests the imported records stand for (aggregated rows count many).
    pub requests: u64,
    pub unpriced: Vec<String>,
    pub notes: Vec<String>,
}

/// Parses and validates `text`; every bad row is reported at once.
pub fn parse(text: &str, opts: &ImportOptions, catalog: &Catalog) -> Result<Parsed, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let input = Input::read(text)?;
    let format = match opts.format {
        Some(f) => f,
        None => input.detect().ok_or_else(|| {
            ImportError::Unrecognised(
                "cannot tell the format of this file; pass --format generic, litellm, openai or anthropic".into(),
            )
        })?,
    };
    let mut cx = Context {
        opts,
        catalog,
        errors: input.errors().to_vec(),
        notes: Vec::new(),
        columns: columns::Columns::new(&opts.ignore_columns),
    };
    let records = match (format, &input) {
        (ImportFormat::Generic, Input::Rows { rows, jsonl, .. }) => {
            generic::parse(rows, *jsonl, &mut cx)
        }
        (ImportFormat::Litellm, Input::Rows { rows, jsonl, .. }) => {
            litellm::parse(rows, *jsonl, &mut cx)
        }
        (ImportFormat::Openai, Input::Json(doc)) => openai::parse(doc, &mut cx),
        (ImportFormat::Anthropic, Input::Json(doc)) => anthropic::parse(doc, &mut cx),
        (f @ (ImportFormat::Openai | ImportFormat::Anthropic), Input::Rows { .. }) => {
            return Err(ImportError::Unrecognised(format!(
                "{f} usage exports are the API's JSON response (one page, or an array of pages); this file is CSV or JSON Lines"
            )));
        }
        (f, Input::Json(_)) => {
            return Err(ImportError::Unrecognised(format!(
                "this file is a JSON API response, not {f} rows; pass --format openai or anthropic"
            )));
        }
    };
    let known = match format {
        ImportFormat::Generic => generic::KNOWN,
        ImportFormat::Litellm => litellm::KNOWN,
        ImportFormat::Openai => openai::KNOWN,
        ImportFormat::Anthropic => anthropic::KNOWN,
    };
    // Unknown columns first: they are often the cause of the row errors that follow.
    let mut errors = std::mem::take(&mut cx.columns).into_errors(known);
    errors.append(&mut cx.errors);
    if !errors.is_empty() {
        return Err(ImportError::Invalid { format, errors });
    }
    let unpriced = records
        .iter()
        .filter(|r| r.cost_usd.is_none() && r.is_success())
        .map(|r| {
            let p = r.provider.as_deref().unwrap_or("?");
            format!("{p}/{}", r.model.as_deref().unwrap_or("?"))
        })
        .collect();
    Ok(Parsed {
        format,
        records,
        unpriced,
        notes: cx.notes,
    })
}

/// Parses `text` and appends its records in one transaction; with `dry_run`, only counts
/// what would be appended.
pub fn import(
    store: &mut dyn Store,
    text: &str,
    opts: &ImportOptions,
    catalog: &Catalog,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    append(store, parse(text, opts, catalog)?, dry_run)
}

/// Appends a parsed file's records in one transaction; with `dry_run`, only counts what would
/// be appended. Parse first, then open the store, so a refused file creates no ledger.
pub fn append(
    store: &mut dyn Store,
    parsed: Parsed,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let read = parsed.records.len() as u64;
    let imported = if dry_run {
        let unique: BTreeSet<&str> = parsed
            .records
            .iter()
            .map(|r| r.request_id.as_str())
            .collect();
        let ids: Vec<&str> = unique.into_iter().collect();
        ids.len() as u64 - store.count_existing(&ids)?
    } else {
        store.append(&parsed.records)? as u64
    };
    Ok(ImportReport {
        format: parsed.format,
        read,
        imported,
        duplicates: read - imported,
        requests: parsed.records.iter().map(|r| r.request_count).sum(),
        unpriced: parsed.unpriced.into_iter().collect(),
        notes: parsed.notes,
    })
}

/// What every format's parser shares: options, catalog, and the problems found so far.
pub(crate) struct Context<'a> {
    pub opts: &'a ImportOptions,
    pub catalog: &'a Catalog,
    pub errors: Vec<RowError>,
    pub notes: Vec<String>,
    /// Names the format does not know, checked as rows are read.
    pub columns: columns::Columns,
}

impl Context<'_> {
    /// Records each of `messages` against `at`; returns whether there were none.
    pub fn check(&mut self, at: &Location, messages: Vec<String>) -> bool {
        let ok = messages.is_empty();
        self.errors
            .extend(messages.into_iter().map(|message| RowError {
                at: at.clone(),
                message,
            }));
        ok
    }

    /// Prices `r` from the catalog when it has no cost (models the catalog lacks stay
    /// unpriced and are listed in the report).
    pub fn price(&mut self, r: &mut Record, tier: pricing::Tier, batch: bool) {
        pricing::fill(self.catalog, r, tier, batch);
    }
}

/// A record with nothing known yet but its time and origin; formats fill in the rest.
pub(crate) fn blank(source: &str, ts: DateTime<Utc>) -> Record {
    Record {
        request_id: String::new(),
        ts,
        kind: RecordKind::Chat,
        workload: None,
        tags: Vec::new(),
        key_id: None,
        team: None,
        route: String::new(),
        provider: None,
        model: None,
        attempts: Vec::new(),
        status: 200,
        error_class: None,
        streamed: false,
        shadow: false,
        features: String::new(),
        usage: TokenUsage::default(),
        cost_usd: None::<Money>,
        price_version: None,
        latency_ms: 0.0,
        ttft_ms: None,
        overhead_us: 0,
        usage_estimated: false,
        request_count: 1,
        source: source.to_string(),
        prefix: None,
        cascade: None,
        cache: None,
        saved_usd: None,
        batch: false,
        fingerprint: None,
        routing_baseline_usd: None,
    }
}

/// A stable id for a row that has none: `imp_` + 32 hex digits of FNV-1a (128-bit) over the
/// source and the row's identifying fields, each length-prefixed so that field boundaries
/// count. Stable across builds and platforms (unlike `std`'s hasher), so re-imports dedupe.
pub fn derive_id(source: &str, parts: &[&str]) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;
    let mut h = OFFSET;
    for p in std::iter::once(source).chain(parts.iter().copied()) {
        for b in (p.len() as u64).to_le_bytes().iter().chain(p.as_bytes()) {
            h ^= u128::from(*b);
            h = h.wrapping_mul(PRIME);
        }
    }
    format!("imp_{h:032x}")
}
