//! The period a savings or still-on-the-table figure covers: whole UTC days from `from`
//! (inclusive) to `until` (exclusive), either end open, production traffic unless asked.
//!
//! Owns the translation of a period into the two forms the tables are keyed by: the rollup's
//! `YYYY-MM-DDTHH` hour text and the requests' `ts_ms`.

use crate::SummaryQuery;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A period of whole UTC days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First day included; `None`: from the first record.
    pub from: Option<NaiveDate>,
    /// First day left out; `None`: up to the last record.
    pub until: Option<NaiveDate>,
    /// Count mirrored (shadow) evaluation traffic too.
    #[serde(default)]
    pub include_shadow: bool,
}

impl Window {
    /// Everything from `from` on, production traffic only.
    pub fn since(from: Option<NaiveDate>) -> Self {
        Window {
            from,
            until: None,
            include_shadow: false,
        }
    }

    /// Days `from` up to (not including) `until`, production traffic only.
    pub fn between(from: NaiveDate, until: NaiveDate) -> Self {
        Window {
            from: Some(from),
            until: Some(until),
            include_shadow: false,
        }
    }

    /// `[low, high)` as rollup hour text: `""` and `"~"` stand for open ends (every hour
    /// sorts between them).
    pub(crate) fn hours(&self) -> (String, String) {
        let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        (
            self.from.map(day).unwrap_or_default(),
            self.until.map_or_else(|| "~".to_string(), day),
        )
    }

    /// `[low, high)` as `ts_ms`.
    pub(crate) fn millis(&self) -> (i64, i64) {
        let ms = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp_millis())
        };
        (
            self.from.map_or(i64::MIN, ms),
            self.until.map_or(i64::MAX, ms),
        )
    }
}

impl From<&SummaryQuery> for Window {
    fn from(q: &SummaryQuery) -> Self {
        Window {
            from: q.since,
            until: None,
            include_shadow: q.include_shadow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_bounds_rollup_hours_and_request_times_alike() {
        let d = |n| NaiveDate::from_ymd_opt(2026, 11, n).unwrap();
        let w = Window::between(d(2), d(4));
        let (lo, hi) = w.hours();
        assert!(lo.as_str() <= "2026-11-02T00" && "2026-11-03T23" < hi.as_str());
        assert!("2026-11-04T00" >= hi.as_str(), "the until day is left out");
        let (lo, hi) = w.millis();
        assert_eq!(hi - lo, 2 * 86_400_000);
        let open = Window::since(None);
        let (lo, hi) = open.hours();
        assert!(lo.as_str() < "2000-01-01T00" && "9999-12-31T23" < hi.as_str());
        assert_eq!(open.millis(), (i64::MIN, i64::MAX));
    }
}
