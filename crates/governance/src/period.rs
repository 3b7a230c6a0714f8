//! Budget periods: UTC calendar day, ISO week (Monday 00:00 UTC) and calendar month.
//!
//! A period is a half-open window `[start, next_start)`; spend at exactly `next_start` belongs
//! to the next window.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The window a budget's limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    /// Every period, in order of length.
    pub const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];

    /// The start of the window containing `now`.
    pub fn start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let date = now.date_naive();
        let first = match self {
            Period::Day => date,
            Period::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
            Period::Month => date.with_day(1).unwrap_or(date),
        };
        midnight(first)
    }

    /// The start of the window after the one containing `now` (when the counter resets).
    pub fn next_start(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let start = self.start(now);
        match self {
            Period::Day => start + Duration::days(1),
            Period::Week => start + Duration::days(7),
            Period::Month => {
                let d = start.date_naive();
                let (y, m) = if d.month() == 12 {
                    (d.year() + 1, 1)
                } else {
                    (d.year(), d.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1).map_or(start + Duration::days(31), midnight)
            }
        }
    }

    /// A small index, so per-period state can live in a fixed array.
    pub(crate) fn index(self) -> usize {
        match self {
            Period::Day => 0,
            Period::Week => 1,
            Period::Month => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn day_starts_at_utc_midnight_and_ends_at_the_next() {
        let now = t("2026-11-27T23:59:59.999Z");
        assert_eq!(Period::Day.start(now), t("2026-11-27T00:00:00Z"));
        assert_eq!(Period::Day.next_start(now), t("2026-11-28T00:00:00Z"));
        // Exactly midnight belongs to the new day.
        let midnight = t("2026-11-28T00:00:00Z");
        assert_eq!(Period::Day.start(midnight), midnight);
    }

    #[test]
    fn week_starts_monday_even_across_a_month_and_year_boundary() {
        // 2026-11-27 is a Friday; its week began Monday 2026-11-23.
        let fri = t("2026-11-27T12:00:00Z");
        assert_eq!(Period::Week.start(fri), t("2026-11-23T00:00:00Z"));
        assert_eq!(Period::Week.next_start(fri), t("2026-11-30T00:00:00Z"));
        // Sunday still belongs to the week that began on the previous Monday.
        let sun = t("2027-01-03T23:00:00Z");
        assert_eq!(Period::Week.start(sun), t("2026-12-28T00:00:00Z"));
        // Monday 00:00 starts a new week.
        let mon = t("2026-11-30T00:00:00Z");
        assert_eq!(Period::Week.start(mon), mon);
    }

    #[test]
    fn month_is_the_calendar_month_including_december_and_leap_february() {
        let dec = t("2026-12-31T18:00:00Z");
        assert_eq!(Period::Month.start(dec), t("2026-12-01T00:00:00Z"));
        assert_eq!(Period::Month.next_start(dec), t("2027-01-01T00:00:00Z"));
        let feb = t("2028-02-29T10:00:00Z");
        assert_eq!(Period::Month.start(feb), t("2028-02-01T00:00:00Z"));
        assert_eq!(Period::Month.next_start(feb), t("2028-03-01T00:00:00Z"));
    }

    #[test]
    fn serde_uses_lowercase_names() {
        let json = serde_json::to_string(&Period::ALL).unwrap();
        assert_eq!(json, r#"["day","week","month"]"#);
        let back: Vec<Period> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Period::ALL);
        assert!(serde_json::from_str::<Period>(r#""Day""#).is_err());
    }
}
