//! Walking the paged JSON of provider usage and cost APIs: one page (`{"data": [buckets…]}`)
//! or an array of pages, each bucket with its `results`. Every result is located by its JSON
//! path, e.g. `[2].data[5].results[0]`.

use super::{Location, derive_id};
use serde_json::Value;

/// One result in one bucket.
pub(crate) struct Item<'a> {
    pub at: Location,
    pub bucket: &'a Value,
    pub result: &'a Value,
}

/// Every result of every bucket of every page, plus the structural problems found (a page
/// without `data`, a bucket without `results`).
pub(crate) fn items(doc: &Value) -> (Vec<Item<'_>>, Vec<(Location, String)>) {
    let pages: Vec<(String, &Value)> = match doc {
        Value::Array(pages) => pages
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("[{i}]."), p))
            .collect(),
        page => vec![(String::new(), page)],
    };
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (prefix, page) in pages {
        let Some(buckets) = page.get("data").and_then(Value::as_array) else {
            let at = Location::Path(if prefix.is_empty() {
                "(document)".into()
            } else {
                prefix.trim_end_matches('.').to_string()
            });
            errors.push((
                at,
                "is not a page: it has no `data` array of buckets".into(),
            ));
            continue;
        };
        for (b, bucket) in buckets.iter().enumerate() {
            let Some(results) = bucket.get("results").and_then(Value::as_array) else {
                let at = Location::Path(format!("{prefix}data[{b}]"));
                errors.push((at, "is not a bucket: it has no `results` array".into()));
                continue;
            };
            for (r, result) in results.iter().enumerate() {
                items.push(Item {
                    at: Location::Path(format!("{prefix}data[{b}].results[{r}]")),
                    bucket,
                    result,
                });
            }
        }
    }
    (items, errors)
}

/// A string field; `None` when absent, null or empty.
pub(crate) fn text(v: &Value, name: &str) -> Option<String> {
    match v.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A token count: absent or null is 0 when optional; anything else must be a whole number.
pub(crate) fn count(v: &Value, name: &str, required: bool, errs: &mut Vec<String>) -> u64 {
    match v.get(name) {
        None | Some(Value::Null) if !required => 0,
        None | Some(Value::Null) => {
            errs.push(format!("{name} is missing"));
            0
        }
        Some(x) => x.as_u64().unwrap_or_else(|| {
            errs.push(format!("{name} is {x}, not a whole non-negative number"));
            0
        }),
    }
}

/// The deterministic id of a result: its bucket's bounds and every grouping dimension (the
/// result's fields that are not counts), so a re-export of the same bucket gets the same id
/// even when its numbers have grown (the first import wins; import closed buckets).
pub(crate) fn id(source: &str, item: &Item<'_>, bounds: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for b in bounds {
        parts.push((*b).to_string());
        parts.push(
            item.bucket
                .get(*b)
                .map_or_else(String::new, Value::to_string),
        );
    }
    if let Value::Object(fields) = item.result {
        let mut dims: Vec<(&String, &Value)> = fields
            .iter()
            .filter(|(_, v)| matches!(v, Value::String(_) | Value::Bool(_) | Value::Null))
            .collect();
        dims.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in dims {
            parts.push(k.clone());
            parts.push(v.to_string());
        }
    }
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    derive_id(source, &parts)
}
