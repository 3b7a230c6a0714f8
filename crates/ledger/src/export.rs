//! `ledger export`: every record as CSV or JSON Lines, streamed (constant memory).

use crate::{LedgerError, Record, Store};
use chrono::{DateTime, Utc};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "jsonl" => Ok(ExportFormat::Jsonl),
            _ => Err(format!("unknown format {s:?}; use csv or jsonl")),
        }
    }
}

pub(crate) const CSV_HEADER: &str = "request_id,ts,kind,workload,tags,key_id,team,route,provider,model,status,error_class,streamed,shadow,features,input_tokens,cached_input_tokens,cache_write_tokens,cache_write_1h_tokens,output_tokens,reasoning_tokens,cost_usd,price_version,latency_ms,ttft_ms,overhead_us,usage_estimated,attempts,request_count,source,prefix_hash,prefix_tokens,cascade_tier,cascade_baseline_usd,cache,saved_usd,batch,fingerprint,routing_baseline_usd,cascade_judged_usd";

/// Writes every record since `since`; returns how many.
pub fn export(
    store: &dyn Store,
    format: ExportFormat,
    since: Option<DateTime<Utc>>,
    out: &mut dyn Write,
) -> Result<u64, LedgerError> {
    let mut n = 0u64;
    if format == ExportFormat::Csv {
        writeln!(out, "{CSV_HEADER}")?;
    }
    store.scan(since, &mut |r| {
        n += 1;
        match format {
            ExportFormat::Jsonl => {
                serde_json::to_writer(&mut *out, &r).map_err(|e| LedgerError::Io(e.into()))?;
                writeln!(out)?;
            }
            ExportFormat::Csv => write_csv_row(out, &r)?,
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(n)
}

fn write_csv_row(out: &mut dyn Write, r: &Record) -> Result<(), LedgerError> {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let tags = encode_tags(&r.tags);
    let attempts = serde_json::to_string(&r.attempts).unwrap_or_default();
    let fields = [
        r.request_id.clone(),
        r.ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        r.kind.as_str().to_string(),
        opt(&r.workload),
        tags,
        opt(&r.key_id),
        opt(&r.team),
        r.route.clone(),
        opt(&r.provider),
        opt(&r.model),
        r.status.to_string(),
        opt(&r.error_class),
        r.streamed.to_string(),
        r.shadow.to_string(),
        r.features.clone(),
        r.usage.input.to_string(),
        r.usage.cached_input.to_string(),
        r.usage.cache_write.to_string(),
        r.usage.cache_write_1h.to_string(),
        r.usage.output.to_string(),
        r.usage.reasoning.to_string(),
        r.cost_usd
            .map(|c| c.decimal().normalize().to_string())
            .unwrap_or_default(),
        opt(&r.price_version),
        // Shortest text that parses back to the same float: the export re-imports losslessly.
        r.latency_ms.to_string(),
        r.ttft_ms.map(|t| t.to_string()).unwrap_or_default(),
        r.overhead_us.to_string(),
        r.usage_estimated.to_string(),
        attempts,
        r.request_count.to_string(),
        r.source.clone(),
        r.prefix.map(|p| p.hex()).unwrap_or_default(),
        r.prefix.map(|p| p.tokens.to_string()).unwrap_or_default(),
        r.cascade
            .as_ref()
            .map(|c| c.tier.to_string())
            .unwrap_or_default(),
        r.cascade
            .as_ref()
            .and_then(|c| c.baseline_usd)
            .map(|c| c.decimal().normalize().to_string())
            .unwrap_or_default(),
        opt(&r.cache),
        r.saved_usd
            .map(|c| c.decimal().normalize().to_string())
            .unwrap_or_default(),
        r.batch.to_string(),
        r.fingerprint
            .map(crate::Fingerprint::hex)
            .unwrap_or_default(),
        r.routing_baseline_usd
            .map(|c| c.decimal().normalize().to_string())
            .unwrap_or_default(),
        r.cascade
            .as_ref()
            .and_then(|c| c.judged_usd)
            .map(|c| c.decimal().normalize().to_string())
            .unwrap_or_default(),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_csv_field(out, f)?;
    }
    out.write_all(b"\n")?;
    Ok(())
}

/// Tags as `k=v;k=v`. `%`, `;` and `=` inside a key or value are percent-escaped (`%25`,
/// `%3B`, `%3D`) so that every tag survives the round trip through [`decode_tags`].
pub(crate) fn encode_tags(tags: &[(String, String)]) -> String {
    let esc = |s: &str| {
        s.replace('%', "%25")
            .replace(';', "%3B")
            .replace('=', "%3D")
    };
    tags.iter()
        .map(|(k, v)| format!("{}={}", esc(k), esc(v)))
        .collect::<Vec<_>>()
        .join(";")
}

/// Parses `k=v;k=v` (the inverse of [`encode_tags`]); a part without `=` is a key with an
/// empty value, empty parts are skipped.
pub(crate) fn decode_tags(s: &str) -> Vec<(String, String)> {
    s.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (unescape(k.trim()), unescape(v.trim())),
            None => (unescape(p), String::new()),
        })
        .collect()
}

/// One pass over `%25`, `%3B`, `%3D`; any other `%` is kept as written.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3).map(str::to_ascii_uppercase);
        let decoded = match code.as_deref() {
            Some("25") => Some('%'),
            Some("3B") => Some(';'),
            Some("3D") => Some('='),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// RFC 4180 quoting: quote fields holding a comma, quote or line break; double inner quotes.
fn write_csv_field(out: &mut dyn Write, f: &str) -> std::io::Result<()> {
    if f.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", f.replace('"', "\"\""))
    } else {
        out.write_all(f.as_bytes())
    }
}
