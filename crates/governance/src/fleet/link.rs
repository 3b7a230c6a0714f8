//! The fleet's link to Redis: up, suspect or down, the last error (scrubbed of the URL's
//! password), and the URL checks.
//!
//! A failed or timed-out operation makes the link **suspect**, not down: a Redis that is
//! only slow for a moment must not flip the fleet into local enforcement on one late reply.
//! The heartbeat is woken at once to probe it; its failure confirms the outage (**down**: the
//! log warns, `/v1/status` says `fallback`), its success makes the link **up** again. While
//! suspect or down, requests are judged against the replica's local share (without trying
//! Redis, so they pay nothing to find out), and only a heartbeat that reached Redis ends it.

use super::FleetError;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

const UP: u8 = 0;
const SUSPECT: u8 = 1;
const DOWN: u8 = 2;

pub(crate) struct Link {
    state: AtomicU8,
    last_error: Mutex<Option<String>>,
    secret: Option<String>,
    /// Wakes the heartbeat to probe Redis now (the link just became suspect).
    pub(crate) probe: Notify,
}

impl Link {
    pub(crate) fn new(secret: Option<String>) -> Self {
        Link {
            state: AtomicU8::new(UP),
            last_error: Mutex::new(None),
            secret,
            probe: Notify::new(),
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
            tracing::debug!(error = %self.scrubbed(message), "fleet: a redis call failed; probing");
            self.probe.notify_one();
        }
    }

    /// The heartbeat's probe failed too: the outage is confirmed (logged once).
    pub(crate) fn confirm_down(&self, message: &str) {
        self.remember(message);
        if self.state.swap(DOWN, Ordering::Relaxed) != DOWN {
            tracing::warn!(error = %self.scrubbed(message), "fleet: redis unreachable; enforcing budgets and limits locally");
        }
    }

    /// Marks the link up; true when it was not (the caller has reconciled first).
    pub(crate) fn succeeded(&self) -> bool {
        let was = self.state.swap(UP, Ordering::Relaxed);
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
