//! The input file split by shape (CSV, JSON Lines, a JSON array of rows, or paged API JSON)
//! before any format reads it, and the detection of its format from that shape.

use super::{ImportError, ImportFormat, Location, RowError, table};
use serde_json::Value;
use std::collections::BTreeSet;

/// The file, split by shape before any format reads it.
pub(crate) enum Input {
    Rows {
        rows: Vec<table::Row>,
        columns: BTreeSet<String>,
        jsonl: bool,
        errors: Vec<RowError>,
    },
    Json(Value),
}

impl Input {
    pub(crate) fn read(text: &str) -> Result<Self, ImportError> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('[') || trimmed.starts_with('{') {
            if let Ok(doc) = serde_json::from_str::<Value>(text) {
                return Ok(Self::from_json(doc));
            }
            if trimmed.starts_with('[') {
                return Err(ImportError::Unrecognised(
                    "the file starts like a JSON array but is not valid JSON; check that it is complete".into(),
                ));
            }
            let (rows, errors) = table::read_jsonl(text);
            return Ok(Self::rows(rows, true, errors));
        }
        let csv = table::read_csv(text).map_err(|(at, message)| ImportError::Invalid {
            format: ImportFormat::Generic,
            errors: vec![RowError { at, message }],
        })?;
        let mut input = Self::rows(csv.rows, false, csv.errors);
        if let Input::Rows { columns, .. } = &mut input {
            columns.extend(csv.header);
        }
        Ok(input)
    }

    fn from_json(doc: Value) -> Self {
        let is_page = |v: &Value| v.get("data").is_some_and(Value::is_array);
        match doc {
            Value::Array(items) if !items.iter().any(is_page) => {
                let (rows, errors) = table::rows_from_array(&items);
                Self::rows(rows, true, errors)
            }
            Value::Object(fields) if !fields.get("data").is_some_and(Value::is_array) => {
                // A JSON Lines file with a single line.
                let row = table::Row {
                    at: Location::Line(1),
                    fields,
                };
                Self::rows(vec![row], true, Vec::new())
            }
            doc => Input::Json(doc),
        }
    }

    fn rows(rows: Vec<table::Row>, jsonl: bool, errors: Vec<(Location, String)>) -> Self {
        let columns = rows.iter().flat_map(|r| r.fields.keys().cloned()).collect();
        Input::Rows {
            rows,
            columns,
            jsonl,
            errors: errors
                .into_iter()
                .map(|(at, message)| RowError { at, message })
                .collect(),
        }
    }

    pub(crate) fn errors(&self) -> &[RowError] {
        match self {
            Input::Rows { errors, .. } => errors,
            Input::Json(_) => &[],
        }
    }

    /// LiteLLM rows have `startTime` (or `spend` with `call_type`); pages whose buckets have
    /// `starting_at` are Anthropic's, those with `start_time` OpenAI's.
    pub(crate) fn detect(&self) -> Option<ImportFormat> {
        match self {
            Input::Rows { columns, .. } => {
                let has = |c: &str| columns.contains(c);
                if has("startTime") || (has("spend") && has("call_type")) {
                    Some(ImportFormat::Litellm)
                } else {
                    Some(ImportFormat::Generic)
                }
            }
            Input::Json(doc) => {
                let pages: Vec<&Value> = match doc {
                    Value::Array(items) => items.iter().collect(),
                    page => vec![page],
                };
                let bucket = pages
                    .iter()
                    .filter_map(|p| p.get("data")?.as_array()?.first())
                    .next()?;
                if bucket.get("starting_at").is_some() {
                    Some(ImportFormat::Anthropic)
                } else if bucket.get("start_time").is_some() {
                    Some(ImportFormat::Openai)
                } else {
                    None
                }
            }
        }
    }
}
