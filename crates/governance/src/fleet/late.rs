//! Late replies: the admission of a key with only an `rpm` limit that timed out is still
//! awaited, and if Redis did admit it, the slot it took is given back.
//!
//! Such a key's admission leaves no lease record (keeping it so would add writes to every
//! admission), so the settlement of a timed-out call, which gives back the slot of a key that
//! has one (see `settle`), finds nothing to give back. The request itself was judged by the
//! local share (refused, or counted there and added to Redis when the link is up again), so
//! a slot the late call took in Redis counts it twice, or counts a request never served.
//! Instead of dropping the call when `timeout_ms` passes, its future is handed to a task
//! that waits for the reply (at most [`LATE_WAIT`]): the connection is multiplexed and its
//! replies come in order, so the late reply tells exactly whether the script ran and
//! admitted. If it did, the refund script moves the bucket back one interval. If the
//! connection breaks first, or Redis does not answer within [`LATE_WAIT`], nothing is known
//! and nothing is given back: the slot stays taken, which only ever admits fewer.
//!
//! The late replies come before the reply to the probe that ends the stall (same
//! connection, sent earlier), so the heartbeat waits for their refunds (at most one
//! `timeout_ms`) before it lets requests go to Redis again: the requests that waited out the
//! stall then find the slots the timed-out calls took already given back.

use super::Inner;
use super::prepared::Prepared;
use super::scripts::REFUND_SCRIPT;
use redis::Value;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::time::error::Elapsed;

/// How long a timed-out admission's reply is still awaited (also the connection's own
/// response timeout: every call is bounded by `timeout_ms` on the caller's side).
pub(crate) const LATE_WAIT: Duration = Duration::from_secs(10);

/// What a late admission's reply needs to give its slot back.
#[derive(Clone)]
pub(crate) struct Late {
    fleet: Weak<Inner>,
    key: Arc<Prepared>,
    interval_ms: f64,
}

impl Late {
    /// The watch for an admission of `key` with `rpm` as its only limit.
    pub(crate) fn new(inner: &Arc<Inner>, key: Arc<Prepared>, rpm: u32) -> Late {
        Late {
            fleet: Arc::downgrade(inner),
            key,
            interval_ms: 60_000.0 / f64::from(rpm.max(1)),
        }
    }

    /// Awaits `call` for `timeout`; when that passes, the call goes on in a task of its own
    /// whose reply (the pipeline's last, the admission) decides the refund.
    pub(crate) async fn query<F>(
        self,
        call: F,
        timeout: Duration,
    ) -> Result<redis::RedisResult<Vec<Value>>, Elapsed>
    where
        F: Future<Output = redis::RedisResult<Vec<Value>>> + Send + 'static,
    {
        let mut call = Box::pin(call);
        match tokio::time::timeout(timeout, &mut call).await {
            Ok(r) => Ok(r),
            Err(elapsed) => {
                let pending = Pending::new(&self.fleet);
                tokio::spawn(async move {
                    if let Ok(Ok(replies)) = tokio::time::timeout(LATE_WAIT, call).await {
                        if admitted(replies.last()) {
                            self.refund().await;
                        }
                    }
                    drop(pending);
                });
                Err(elapsed)
            }
        }
    }

    /// Gives the slot back (one attempt: if Redis fails again, the slot stays taken).
    async fn refund(self) {
        let Some(inner) = self.fleet.upgrade() else {
            return;
        };
        let mut cmd = REFUND_SCRIPT.start(1);
        cmd.arg(&self.key.rpm)
            .arg(chrono::Utc::now().timestamp_millis())
            .arg(self.interval_ms);
        let mut pipe = redis::pipe();
        pipe.add_command(cmd).ignore();
        if inner
            .pipeline::<()>(&pipe, inner.opts.op_timeout)
            .await
            .is_some()
        {
            inner.late_refunds.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(key_id = %self.key.key_id, "fleet: a late admission's rpm slot given back");
        }
    }
}

/// One late reply awaited (counted in [`Inner::late_pending`] until dropped).
struct Pending(Weak<Inner>);

impl Pending {
    fn new(fleet: &Weak<Inner>) -> Pending {
        if let Some(inner) = fleet.upgrade() {
            inner.late_pending.fetch_add(1, Ordering::Relaxed);
        }
        Pending(fleet.clone())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(inner) = self.0.upgrade() {
            inner.late_pending.fetch_sub(1, Ordering::Relaxed);
            inner.late_done.notify_waiters();
        }
    }
}

impl Inner {
    /// Waits (at most `max`) until every late reply awaited has been judged and its refund,
    /// if any, answered.
    pub(crate) async fn late_settled(&self, max: Duration) {
        let deadline = tokio::time::Instant::now() + max;
        loop {
            let done = self.late_done.notified();
            tokio::pin!(done);
            done.as_mut().enable();
            if self.late_pending.load(Ordering::Relaxed) == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                return;
            }
        }
    }
}

/// The key's `rpm` when it is its only limit (no budget, no `tpm`): such an admission
/// leaves no lease record in Redis.
pub(crate) fn rpm_only(key: &crate::KeyHandle) -> Option<u32> {
    let spec = &key.info().spec;
    spec.rpm
        .filter(|_| spec.budgets.is_empty() && spec.tpm.is_none())
}

/// Whether an admit script's reply says it admitted (`{0, …}`).
fn admitted(reply: Option<&Value>) -> bool {
    matches!(reply, Some(Value::Array(items)) if matches!(items.first(), Some(Value::Int(0))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_admitting_reply_gives_a_slot_back() {
        let ok = Value::Array(vec![Value::Int(0), Value::Int(1), Value::Int(0)]);
        let limited = Value::Array(vec![Value::Int(1), Value::Int(200)]);
        assert!(admitted(Some(&ok)));
        assert!(!admitted(Some(&limited)));
        assert!(!admitted(Some(&Value::Nil)));
        assert!(!admitted(None));
    }
}
