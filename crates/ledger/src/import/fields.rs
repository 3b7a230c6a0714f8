//! Field parsers shared by every format. Each returns a message that says what was expected,
//! so a bad cell can be fixed from the error alone.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::str::FromStr;
use switchyard_primitives::Money;

/// A timestamp: RFC 3339, `YYYY-MM-DD HH:MM:SS[.f][±HH[:MM]]` (PostgreSQL's text form),
/// a zone-less date-time (taken as UTC), `YYYY-MM-DD` (midnight UTC), or Unix seconds.
pub(crate) fn timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    if let Ok(secs) = s.parse::<i64>() {
        if let Some(t) = Utc.timestamp_opt(secs, 0).single() {
            return Ok(t);
        }
    }
    Err(format!(
        "{s:?} is not a timestamp; write RFC 3339 (2026-03-01T12:00:00Z) or YYYY-MM-DD"
    ))
}

/// A non-negative whole count. `12.0` is accepted (spreadsheets write integers that way).
pub(crate) fn count(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    match t.parse::<f64>() {
        Ok(f) if f >= 0.0 && f.fract() == 0.0 && f < 1e18 => Ok(f as u64),
        _ => Err(format!("{s:?} is not a whole, non-negative number")),
    }
}

/// A non-negative dollar amount, exact (decimal text, never through a float).
pub(crate) fn money(s: &str) -> Result<Money, String> {
    let m = Money::from_str(s).map_err(|e| e.to_string())?;
    if m.decimal().is_sign_negative() && !m.is_zero() {
        return Err(format!("{s:?} is negative; costs must be 0 or more"));
    }
    Ok(m)
}

/// Milliseconds, non-negative.
pub(crate) fn millis(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a duration in milliseconds")),
    }
}

/// An HTTP status, or a word: `success`/`ok` (200), `failure`/`error` (500).
pub(crate) fn status(s: &str) -> Result<u16, String> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "success" | "ok" => return Ok(200),
        "failure" | "error" | "failed" => return Ok(500),
        _ => {}
    }
    match count(t) {
        Ok(n) if (100..600).contains(&n) => Ok(n as u16),
        _ => Err(format!(
            "{s:?} is not an HTTP status; write a number such as 200 or 429, or success/failure"
        )),
    }
}

/// `true`/`false`, `1`/`0`, `yes`/`no`.
pub(crate) fn flag(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "t" => Ok(true),
        "false" | "0" | "no" | "f" => Ok(false),
        _ => Err(format!("{s:?} is not true or false")),
    }
}

/// Parses `raw` (when present) with `parse`, pushing `field: message` on failure.
pub(crate) fn opt<T>(
    raw: Option<String>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, String>,
    errors: &mut Vec<String>,
) -> Option<T> {
    let raw = raw?;
    match parse(&raw) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(format!("{field}: {e}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_accepted_form() {
        let want = "2026-03-01T12:30:00Z";
        for s in [
            "2026-03-01T12:30:00Z",
            "2026-03-01T13:30:00+01:00",
            "2026-03-01 12:30:00",
            "2026-03-01 12:30:00.000+00",
            "2026-03-01T12:30:00.000000",
            "1772368200",
        ] {
            let t = timestamp(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                want,
                "{s}"
            );
        }
        assert_eq!(
            timestamp("2026-03-01").unwrap().to_rfc3339(),
            "2026-03-01T00:00:00+00:00"
        );
        assert!(timestamp("yesterday").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn counts_reject_negatives_and_fractions() {
        assert_eq!(count("12").unwrap(), 12);
        assert_eq!(count("12.0").unwrap(), 12);
        assert!(count("-1").is_err());
        assert!(count("1.5").is_err());
        assert!(money("-0.01").is_err());
        assert_eq!(money("1.5e-7").unwrap().to_string(), "0.00000015");
    }
}
