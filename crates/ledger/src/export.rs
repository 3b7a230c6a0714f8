//! `ledger export`: every record as CSV or JSON Lines, streamed (constant memory).

use crate::{LedgerError, LedgerStore, Record};
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

const CSV_HEADER: &str = "request_id,ts,kind,workload,tags,key_id,team,route,provider,model,status,error_class,streamed,shadow,features,input_tokens,cached_input_tokens,cache_write_tokens,cache_write_1h_tokens,output_tokens,reasoning_tokens,cost_usd,price_version,latency_ms,ttft_ms,overhead_us,usage_estimated,attempts";

/// Writes every record since `since`; returns how many.
pub fn export(
    store: &dyn LedgerStore,
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
    let tags = r
        .tags
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";");
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
        format!("{:.3}", r.latency_ms),
        r.ttft_ms.map(|t| format!("{t:.3}")).unwrap_or_default(),
        r.overhead_us.to_string(),
        r.usage_estimated.to_string(),
        attempts,
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

/// RFC 4180 quoting: quote fields holding a comma, quote or line break; double inner quotes.
fn write_csv_field(out: &mut dyn Write, f: &str) -> std::io::Result<()> {
    if f.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", f.replace('"', "\"\""))
    } else {
        out.write_all(f.as_bytes())
    }
}
