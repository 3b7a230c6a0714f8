//! The fleet's link to Redis: up, suspect or down, the last error (scrubbed of the URL's
//! password), and the URL checks.
//!
//! A failed or timed-out operation makes the link **suspect**, not down: a Redis that is
//! only slow for a moment must not flip the fleet into local enforcement on one late reply
//! (a call that timed out may still run in Redis, so a replica enforcing locally meanwhile
//! would be a second authority over the same limits). The heartbeat is woken at once to
//! probe it. A probe that fails outright (refused, reset) confirms the outage (**down**: the
//! log warns, `/v1/status` says `fallback`); probes that only time out confirm it after
//! three heartbeats. A probe that answers makes the link **up** again. While not up,
//! requests do not try Redis (they pay nothing to find out); see the fallback module for how
//! they are judged.

use super::FleetError;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

const UP: u8 = 0;
const SUSPECT: u8 = 1;
const DOWN: u8 = 2;

pub(crate) struct Link {
    state: AtomicU8,
    last_error: Mutex<Option<String>>,
    secret: Option<String>,
    /// When the link last became suspect.
    suspect_since: Mutex<Option<Instant>>,
    /// Wakes the heartbeat to probe Redis now (the link just became suspect).
    pub(crate) probe: Notify,
    /// Wakes the requests waiting for a suspect link to be settled up or down.
    settled: Notify,
}

impl Link {
    pub(crate) fn new(secret: Option<String>) -> Self {
        Link {
            state: AtomicU8::new(UP),
            last_error: Mutex::new(None),
            secret,
            suspect_since: Mutex::new(None),
            probe: Notify::new(),
            settled: Notify::new(),
        }
    }

    /// Requests go to Redis only while the link is up.
    pub(crate) fn is_up(&self) -> bool {
        self.state.load(Ordering::Relaxed) == UP
    }

    /// The outage is confirmed (a heartbeat failed too).
    pub(crate) fn is_down(&self) -> bool {
        self.state.load(Ordering::Relaxed) == DOWN
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        super::lock(&self.last_error).clone()
    }

    /// Turns an operation's outcome into its value, or `None` after marking the link suspect.
    pub(crate) fn outcome<T>(
        &self,
        outcome: Result<redis::RedisResult<T>, tokio::time::error::Elapsed>,
        timeout: Duration,
    ) -> Option<T> {
        match outcome {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e))
                if !e.is_timeout()
                    && (e.is_io_error()
                        || e.is_connection_refusal()
                        || e.is_connection_dropped()) =>
            {
                // Nothing to doubt: Redis is not there (stopped, unreachable).
                self.confirm_down(&e.to_string());
                None
            }
            Ok(Err(e)) => {
                self.failed(&e.to_string());
                None
            }
            Err(_) => {
                self.failed(&timeout_message(timeout));
                None
            }
        }
    }

    /// An operation failed: up becomes suspect and the heartbeat is woken to probe.
    pub(crate) fn failed(&self, message: &str) {
        self.remember(message);
        if self
            .state
            .compare_exchange(UP, SUSPECT, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            *super::lock(&self.suspect_since) = Some(Instant::now());
            tracing::debug!(error = %self.scrubbed(message), "fleet: a redis call failed; probing");
            self.probe.notify_one();
        }
    }

    /// While the link is suspect, waits (at most `max`) for the probe the suspicion woke to
    /// settle it: up (Redis answered) or down (the outage confirmed). A Redis that was
    /// stopped is confirmed down by that probe's refused connection within a round trip, so
    /// the requests that met the suspicion go on to local shares instead of being refused.
    pub(crate) async fn settle_within(&self, max: Duration) {
        let deadline = tokio::time::Instant::now() + max;
        loop {
            let settled = self.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            if self.state.load(Ordering::Relaxed) != SUSPECT {
                return;
            }
            if tokio::time::timeout_at(deadline, settled).await.is_err() {
                return;
            }
        }
    }

    /// How long the link has been suspect (zero when it is not).
    pub(crate) fn suspect_for(&self) -> Duration {
        match (
            self.state.load(Ordering::Relaxed),
            *super::lock(&self.suspect_since),
        ) {
            (SUSPECT, Some(t)) => t.elapsed(),
            _ => Duration::ZERO,
        }
    }

    /// The outage is confirmed (logged once); true on the transition.
    pub(crate) fn confirm_down(&self, message: &str) -> bool {
        self.remember(message);
        let first = self.state.swap(DOWN, Ordering::Relaxed) != DOWN;
        self.settled.notify_waiters();
        if first {
            tracing::warn!(error = %self.scrubbed(message), "fleet: redis unreachable; enforcing budgets and limits locally");
        }
        first
    }

    /// Marks the link up; true when it was not (the caller has reconciled first).
    pub(crate) fn succeeded(&self) -> bool {
        let was = self.state.swap(UP, Ordering::Relaxed);
        self.settled.notify_waiters();
        if was == DOWN {
            tracing::info!("fleet: redis reachable again; shared enforcement resumed");
        }
        if was != UP {
            *super::lock(&self.last_error) = None;
        }
        was != UP
    }

    fn scrubbed(&self, message: &str) -> String {
        match self.secret.as_deref() {
            Some(s) => message.replace(s, "***"),
            None => message.to_owned(),
        }
    }

    fn remember(&self, message: &str) {
        *super::lock(&self.last_error) = Some(self.scrubbed(message));
    }
}

pub(crate) fn timeout_message(timeout: Duration) -> String {
    format!(
        "redis did not answer within {} ms (fleet.timeout_ms)",
        timeout.as_millis()
    )
}

pub(crate) fn client(url: &str) -> Result<redis::Client, FleetError> {
    if !url.starts_with("redis://") {
        return Err(FleetError::Url(format!(
            "`{}` is not a redis:// URL (TLS is not built in: reach Redis over a private network or a local TLS tunnel)",
            redact(url)
        )));
    }
    redis::Client::open(url).map_err(|e| FleetError::Url(scrub(url, &e.to_string())))
}

/// The password in the URL, so it can be scrubbed from every message.
pub(crate) fn password(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let authority = rest.split('/').next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, secret) = userinfo.split_once(':')?;
    (!secret.is_empty()).then(|| secret.to_owned())
}

pub(crate) fn scrub(url: &str, message: &str) -> String {
    match password(url) {
        Some(s) => message.replace(&s, "***"),
        None => message.to_owned(),
    }
}

fn redact(url: &str) -> String {
    scrub(url, url)
}
