//! Per-key rate limiters. Both take `now` explicitly, so tests drive time by hand.
//!
//! - [`RequestBucket`]: a token bucket of `rpm` requests refilled at `rpm / 60` per second,
//!   kept as a theoretical arrival time (GCRA), so it is one timestamp and exact retry times.
//! - [`TokenWindow`]: a sliding 60-second window of settled tokens plus the prompt tokens of
//!   requests still in flight.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::VecDeque;
use std::time::Duration;

const WINDOW: TimeDelta = TimeDelta::seconds(60);
/// Settlements within one slot share a window entry (stamped with the latest of them), which
/// bounds memory at 600 entries per key and may hold tokens up to one slot longer.
const SLOT_MS: i64 = 100;

/// Requests per minute.
#[derive(Debug, Clone)]
pub(crate) struct RequestBucket {
    pub(crate) rpm: u32,
    /// When the bucket would be full again; `None` while it is full.
    tat: Option<DateTime<Utc>>,
}

impl RequestBucket {
    pub(crate) fn new(rpm: u32) -> Self {
        RequestBucket { rpm, tat: None }
    }

    fn interval(&self) -> TimeDelta {
        TimeDelta::nanoseconds(60_000_000_000 / i64::from(self.rpm.max(1)))
    }

    /// The arrival time after admitting one more request now, or how long until one fits.
    fn next_tat(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, Duration> {
        // A clock that stepped back must not lock the key out for longer than a window.
        let tat = self.tat.map_or(now, |t| t.clamp(now, now + WINDOW));
        let next = tat + self.interval();
        if next - now > WINDOW {
            return Err(to_std(next - WINDOW - now));
        }
        Ok(next)
    }

    pub(crate) fn check(&self, now: DateTime<Utc>) -> Result<(), Duration> {
        self.next_tat(now).map(|_| ())
    }

    /// Empties the bucket down to `free` requests at `now` (a fleet share cut from what the
    /// shared bucket had left); it refills from there as usual.
    pub(crate) fn set_free(&mut self, free: u64, now: DateTime<Utc>) {
        let used = u64::from(self.rpm).saturating_sub(free);
        self.tat = (used > 0).then(|| {
            let used = i32::try_from(used).unwrap_or(i32::MAX);
            now + self.interval() * used
        });
    }

    /// Counts one request (call after [`check`](Self::check) passed under the same lock).
    pub(crate) fn take(&mut self, now: DateTime<Utc>) {
        if let Ok(next) = self.next_tat(now) {
            self.tat = Some(next);
        }
    }

    /// Whole requests that would be admitted right now.
    pub(crate) fn remaining(&self, now: DateTime<Utc>) -> u64 {
        let Some(tat) = self.tat else {
            return u64::from(self.rpm);
        };
        let used = (tat.clamp(now, now + WINDOW) - now)
            .num_nanoseconds()
            .unwrap_or(0);
        let free = WINDOW.num_nanoseconds().unwrap_or(0) - used;
        let per = self.interval().num_nanoseconds().unwrap_or(1).max(1);
        u64::try_from(free / per)
            .unwrap_or(0)
            .min(u64::from(self.rpm))
    }
}

/// Why a request does not fit the token window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRefusal {
    /// Retry after this long.
    Wait(Duration),
    /// The prompt alone exceeds the per-minute limit; waiting will not help.
    TooLarge,
}

/// Tokens per minute.
#[derive(Debug, Clone)]
pub(crate) struct TokenWindow {
    pub(crate) tpm: u64,
    /// Settled tokens by settlement time, oldest first.
    entries: VecDeque<(DateTime<Utc>, u64)>,
    settled: u64,
    in_flight: u64,
}

impl TokenWindow {
    pub(crate) fn new(tpm: u64) -> Self {
        TokenWindow {
            tpm,
            entries: VecDeque::new(),
            settled: 0,
            in_flight: 0,
        }
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        while let Some(&(t, n)) = self.entries.front() {
            if t + WINDOW > now {
                break;
            }
            self.entries.pop_front();
            self.settled = self.settled.saturating_sub(n);
        }
    }

    /// Whether `prompt_tokens` fit now, given settled and in-flight tokens.
    pub(crate) fn check(
        &mut self,
        now: DateTime<Utc>,
        prompt_tokens: u64,
    ) -> Result<(), TokenRefusal> {
        self.prune(now);
        if prompt_tokens > self.tpm {
            return Err(TokenRefusal::TooLarge);
        }
        let used = self.settled + self.in_flight;
        if used + prompt_tokens <= self.tpm {
            return Ok(());
        }
        let need = used + prompt_tokens - self.tpm;
        let mut freed = 0;
        for &(t, n) in &self.entries {
            freed += n;
            if freed >= need {
                return Err(TokenRefusal::Wait(to_std(t + WINDOW - now)));
            }
        }
        // In-flight prompts hold the rest; they free up when those requests settle, which
        // cannot be known here. A second is a polite guess.
        let last = self.entries.back().map_or(now, |&(t, _)| t + WINDOW);
        Err(TokenRefusal::Wait(
            to_std(last - now).max(Duration::from_secs(1)),
        ))
    }

    pub(crate) fn reserve(&mut self, prompt_tokens: u64) {
        self.in_flight += prompt_tokens;
    }

    pub(crate) fn release(&mut self, prompt_tokens: u64) {
        self.in_flight = self.in_flight.saturating_sub(prompt_tokens);
    }

    /// Adds settled tokens at `now`.
    pub(crate) fn record(&mut self, now: DateTime<Utc>, tokens: u64) {
        if tokens == 0 {
            return;
        }
        self.settled += tokens;
        if let Some(back) = self.entries.back_mut() {
            let same_slot = back.0.timestamp_millis() / SLOT_MS == now.timestamp_millis() / SLOT_MS;
            // Out-of-order settlements join the newest entry, keeping the queue sorted.
            if same_slot || now <= back.0 {
                back.0 = back.0.max(now);
                back.1 += tokens;
                return;
            }
        }
        self.entries.push_back((now, tokens));
    }

    pub(crate) fn remaining(&mut self, now: DateTime<Utc>) -> u64 {
        self.prune(now);
        self.tpm.saturating_sub(self.settled + self.in_flight)
    }
}

pub(crate) fn to_std(d: TimeDelta) -> Duration {
    d.to_std().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
#[path = "limiter_tests.rs"]
mod tests;
