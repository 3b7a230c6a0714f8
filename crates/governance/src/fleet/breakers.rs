//! Circuit breakers across a fleet: a replica whose breaker opens writes `provider/model →
//! open until` into one Redis hash; every replica reads the hash (every 250 ms, see the
//! server's fleet task) and opens its own breaker for what is left. Polling a hash of a few
//! entries is cheap and bounds the delay without pub/sub, and a replica that was down when
//! a breaker opened still sees it. What a breaker is stays in the router crate.

use super::Fleet;
use chrono::{DateTime, Utc};
use std::time::Duration;

impl Fleet {
    /// Tells the fleet that this replica's breaker for `label` is open until `until`.
    pub async fn announce_breaker(&self, label: &str, until: DateTime<Utc>) -> bool {
        let i = &self.inner;
        if i.link.is_down() {
            return false;
        }
        let mut pipe = redis::pipe();
        pipe.cmd("HSET")
            .arg(i.breakers_key())
            .arg(label)
            .arg(until.timestamp_millis())
            .ignore()
            .cmd("PEXPIRE")
            .arg(i.breakers_key())
            .arg(86_400_000)
            .ignore();
        i.pipeline::<()>(&pipe, i.opts.op_timeout).await.is_some()
    }

    /// Breakers open somewhere in the fleet at `now`, with how long they stay open; `None`
    /// while Redis is unreachable.
    pub async fn open_breakers(&self, now: DateTime<Utc>) -> Option<Vec<(String, Duration)>> {
        let i = &self.inner;
        if i.link.is_down() {
            return None;
        }
        let mut cmd = redis::cmd("HGETALL");
        cmd.arg(i.breakers_key());
        let all: Vec<(String, i64)> = i.exec(&cmd).await?;
        let now_ms = now.timestamp_millis();
        Some(
            all.into_iter()
                .filter(|(_, until)| *until > now_ms)
                .map(|(label, until)| {
                    let left = u64::try_from(until - now_ms).unwrap_or(0);
                    (label, Duration::from_millis(left))
                })
                .collect(),
        )
    }
}
