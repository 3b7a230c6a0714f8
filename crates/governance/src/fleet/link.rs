//! The fleet's link to Redis: up or down, the last error (scrubbed of the URL's password),
//! and the URL checks. Down is entered on the first failed operation and left only by a
//! heartbeat that reached Redis, so while it is out requests pay nothing to find out.

use super::FleetError;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub(crate) struct Link {
    down: AtomicBool,
    last_error: Mutex<Option<String>>,
    secret: Option<String>,
}

impl Link {
    pub(crate) fn new(secret: Option<String>) -> Self {
        Link {
            down: AtomicBool::new(false),
            last_error: Mutex::new(None),
            secret,
        }
    }

    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        super::lock(&self.last_error).clone()
    }

    /// Turns an operation's outcome into its value, or `None` after marking the link down.
    pub(crate) fn outcome<T>(
        &self,
        outcome: Result<redis::RedisResult<T>, tokio::time::error::Elapsed>,
        timeout: Duration,
    ) -> Option<T> {
        let message = match outcome {
            Ok(Ok(v)) => return Some(v),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!(
                "redis did not answer within {} ms (fleet.timeout_ms)",
                timeout.as_millis()
            ),
        };
        self.failed(&message);
        None
    }

    /// Marks the link down; logs the transition once (the heartbeat logs while it lasts).
    pub(crate) fn failed(&self, message: &str) {
        let message = match self.secret.as_deref() {
            Some(s) => message.replace(s, "***"),
            None => message.to_owned(),
        };
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %message, "fleet: redis unreachable; enforcing budgets and limits locally");
        }
        *super::lock(&self.last_error) = Some(message);
    }

    /// Marks the link up; true when it was down (the caller reconciles).
    pub(crate) fn succeeded(&self) -> bool {
        let was_down = self.down.swap(false, Ordering::Relaxed);
        if was_down {
            tracing::info!("fleet: redis reachable again; shared enforcement resumed");
            *super::lock(&self.last_error) = None;
        }
        was_down
    }
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
