//! Records into PostgreSQL by `COPY`: the batch is streamed in COPY's text format into a
//! per-session staging table (`pg_temp.ledger_in`, emptied at every commit), then moved into
//! `requests` by one `INSERT … SELECT … ON CONFLICT (request_id) DO NOTHING RETURNING`, so a
//! re-sent record is still skipped and only the new ones reach the rollups. Against the
//! multi-row `INSERT` it replaced (up to 19,456 bound parameters a batch, parsed and planned
//! each time), this sends one line of text per record; docs/benchmarks.md has the figures.

use crate::{LedgerError, Record};
use postgres::Transaction;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;

/// Every column a record fills, in the order of [`line`].
const COLUMNS: &str = "request_id, ts, ts_ms, kind, workload, tags, key_id, team, route, provider, model, status, error_class, streamed, shadow, features, input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_usd, price_version, latency_ms, ttft_ms, overhead_us, usage_estimated, attempts, request_count, source, prefix_hash, prefix_tokens, cascade_tier, cascade_baseline_usd, cache, saved_usd, batch, fingerprint, routing_baseline_usd, cascade_judged_usd";

/// Creates the session's staging table unless it exists (a new connection has none); one
/// statement, no notice. Its columns are `requests`' own types, plus the batch order `n`.
fn stage_sql() -> String {
    format!(
        "DO $$ BEGIN
           IF to_regclass('pg_temp.ledger_in') IS NULL THEN
             CREATE TEMP TABLE ledger_in ON COMMIT DELETE ROWS AS
               SELECT 0::BIGINT AS n, {COLUMNS} FROM requests WITH NO DATA;
           END IF;
         END $$"
    )
}

/// Inserts the batch; returns the records that were new (once each, in batch order).
pub(super) fn insert_records<'a>(
    tx: &mut Transaction<'_>,
    batch: &'a [Record],
) -> Result<Vec<&'a Record>, LedgerError> {
    tx.batch_execute(&stage_sql())?;
    let mut text = String::with_capacity(batch.len() * 640);
    for (n, r) in batch.iter().enumerate() {
        line(&mut text, n, r);
    }
    let mut copy = tx.copy_in(&format!("COPY ledger_in (n, {COLUMNS}) FROM STDIN"))?;
    copy.write_all(text.as_bytes())?;
    copy.finish()?;
    let returned = tx.query(
        &format!(
            "INSERT INTO requests ({COLUMNS}) SELECT {COLUMNS} FROM ledger_in ORDER BY n
             ON CONFLICT (request_id) DO NOTHING RETURNING request_id"
        ),
        &[],
    )?;
    let mut new: HashMap<String, ()> = returned
        .iter()
        .map(|r| (r.get::<_, String>(0), ()))
        .collect();
    Ok(batch
        .iter()
        .filter(|r| new.remove(&r.request_id).is_some())
        .collect())
}

/// One record as a line of COPY's text format: tab-separated, `\N` for NULL.
fn line(out: &mut String, n: usize, r: &Record) {
    let money =
        |m: Option<switchyard_primitives::Money>| m.map(|c| c.decimal().normalize().to_string());
    let mut f = Fields { out, first: true };
    f.int(n as i64);
    f.text(Some(&r.request_id));
    f.text(Some(
        &r.ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    ));
    f.int(r.ts.timestamp_millis());
    f.text(Some(r.kind.as_str()));
    f.text(r.workload.as_deref());
    f.text(Some(&crate::columns::tags(&r.tags)));
    f.text(r.key_id.as_deref());
    f.text(r.team.as_deref());
    f.text(Some(&r.route));
    f.text(r.provider.as_deref());
    f.text(r.model.as_deref());
    f.int(i64::from(r.status));
    f.text(r.error_class.as_deref());
    f.boolean(r.streamed);
    f.boolean(r.shadow);
    f.text(Some(&r.features));
    let u = &r.usage;
    f.int(u.input as i64);
    f.int(u.cached_input as i64);
    f.int(u.cache_write as i64);
    f.int(u.cache_write_1h as i64);
    f.int(u.output as i64);
    f.int(u.reasoning as i64);
    f.text(money(r.cost_usd).as_deref());
    f.text(r.price_version.as_deref());
    f.float(Some(r.latency_ms));
    f.float(r.ttft_ms);
    f.int(r.overhead_us as i64);
    f.boolean(r.usage_estimated);
    f.text(Some(&crate::columns::attempts(&r.attempts)));
    f.int(r.request_count.max(1) as i64);
    f.text(Some(&r.source));
    f.text(r.prefix.map(|p| p.hex()).as_deref());
    f.opt_int(r.prefix.map(|p| p.tokens as i64));
    f.opt_int(r.cascade.as_ref().map(|c| i64::from(c.tier)));
    f.text(money(r.cascade.as_ref().and_then(|c| c.baseline_usd)).as_deref());
    f.text(r.cache.as_deref());
    f.text(money(r.saved_usd).as_deref());
    f.boolean(r.batch);
    f.text(r.fingerprint.map(crate::Fingerprint::hex).as_deref());
    f.text(money(r.routing_baseline_usd).as_deref());
    f.text(money(r.cascade.as_ref().and_then(|c| c.judged_usd)).as_deref());
    f.out.push('\n');
}

/// Writes fields of one line, each after a tab but the first.
struct Fields<'a> {
    out: &'a mut String,
    first: bool,
}

impl Fields<'_> {
    fn sep(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.out.push('\t');
        }
    }

    /// Text with COPY's escapes: backslash, and the tab, newline and carriage return that
    /// would end the field or the line.
    fn text(&mut self, v: Option<&str>) {
        self.sep();
        let Some(v) = v else {
            self.out.push_str("\\N");
            return;
        };
        for c in v.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                c => self.out.push(c),
            }
        }
    }

    fn int(&mut self, v: i64) {
        self.sep();
        let _ = write!(self.out, "{v}");
    }

    fn opt_int(&mut self, v: Option<i64>) {
        match v {
            Some(v) => self.int(v),
            None => self.text(None),
        }
    }

    fn boolean(&mut self, v: bool) {
        self.sep();
        self.out.push(if v { 't' } else { 'f' });
    }

    /// Rust's shortest round-trip form, which `float8in` reads back to the same value.
    fn float(&mut self, v: Option<f64>) {
        self.sep();
        match v {
            None => self.out.push_str("\\N"),
            Some(v) if v.is_nan() => self.out.push_str("NaN"),
            Some(v) if v.is_infinite() => {
                self.out
                    .push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
            }
            Some(v) => {
                let _ = write!(self.out, "{v}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_escape_what_would_end_a_field_or_a_line() {
        let mut out = String::new();
        let mut f = Fields {
            out: &mut out,
            first: true,
        };
        f.text(Some("a\tb\nc\rd\\e é"));
        f.text(None);
        f.float(Some(0.1));
        f.float(Some(f64::NEG_INFINITY));
        f.boolean(true);
        f.opt_int(None);
        assert_eq!(out, "a\\tb\\nc\\rd\\\\e é\t\\N\t0.1\t-Infinity\tt\t\\N");
    }
}
