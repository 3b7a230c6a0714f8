//! Late replies: an admission that timed out is not dropped. Its call goes on, and the
//! multiplexed connection still reads the reply, which comes in order (ahead of any command
//! sent after it, such as the probe that ends the stall), so it tells exactly whether the
//! script ran and what it decided.
//!
//! For a key with only an `rpm` limit or with a hard budget the call is parked
//! ([`LateCall`]) for the request to wait on (see `judge`): a stall that ends within the wait
//! has Redis judge the request once, as if it had not been late. A request that stops
//! waiting (judged by the local share instead) leaves the call to a task ([`LateCall::reap`],
//! at most [`LATE_WAIT`]). A hard budget's call is released by its settlement (see
//! `settle`). An `rpm`-only key's admission leaves no lease record (keeping one would add
//! writes to every admission), so that settlement would find nothing to give back; the
//! task does it instead: if the late reply admitted, the refund script moves the bucket back
//! one interval. If the connection breaks first, or Redis does not answer within
//! [`LATE_WAIT`], nothing is known and nothing is given back: the slot stays taken, which
//! only ever admits fewer.
//!
//! The heartbeat that finds Redis back waits for the late replies still awaited (at most one
//! `timeout_ms`) before it lets requests go to Redis again, so they find the slots of the
//! calls reaped meanwhile already given back.

use super::Inner;
use super::prepared::Prepared;
use super::scripts::REFUND_SCRIPT;
use redis::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::time::error::Elapsed;

/// How long a timed-out admission's reply is still awaited (also the connection's own
/// response timeout: every call is bounded by `timeout_ms` on the caller's side).
pub(crate) const LATE_WAIT: Duration = Duration::from_secs(10);

type Call = Pin<Box<dyn Future<Output = redis::RedisResult<Vec<Value>>> + Send>>;

/// An admission pipeline that timed out and is still running.
pub(crate) struct LateCall {
    late: Late,
    call: Call,
    _pending: Pending,
}

impl LateCall {
    /// Waits up to `max` more for the reply: the admission's own (the pipeline's last), if
    /// it came; else the call is reaped.
    pub(crate) async fn wait(mut self, max: Duration) -> Option<Value> {
        match tokio::time::timeout(max, &mut self.call).await {
            Ok(Ok(mut replies)) => replies.pop(),
            Ok(Err(_)) => None,
            Err(_) => {
                self.reap();
                None
            }
        }
    }

    /// Leaves the call to a task: if Redis admitted it after all, the slot is given back
    /// (the request was judged without it).
    pub(crate) fn reap(self) {
        if self.late.interval_ms.is_none() {
            return;
        }
        tokio::spawn(async move {
            let LateCall {
                late,
                call,
                _pending,
            } = self;
            if let Ok(Ok(replies)) = tokio::time::timeout(LATE_WAIT, call).await {
                if admitted(replies.last()) {
                    late.refund().await;
                }
            }
        });
    }
}

/// What a late admission's reply needs to give its slot back.
#[derive(Clone)]
pub(crate) struct Late {
    fleet: Weak<Inner>,
    key: Arc<Prepared>,
    /// The `rpm` interval (ms) of a key with only an `rpm` limit, whose slot a reaped call
    /// gives back; `None` for a key with a hard budget, whose timed-out call is released
    /// by its settlement instead (see `settle`).
    interval_ms: Option<f64>,
}

impl Late {
    /// The watch for an admission of `key`: `rpm` when that is its only limit.
    pub(crate) fn new(inner: &Arc<Inner>, key: Arc<Prepared>, rpm: Option<u32>) -> Late {
        Late {
            fleet: Arc::downgrade(inner),
            key,
            interval_ms: rpm.map(|r| 60_000.0 / f64::from(r.max(1))),
        }
    }

    /// Awaits `call` for `timeout`; when that passes, the call is parked in `parked`, still
    /// running, for the caller to wait on or to [`reap`](LateCall::reap).
    pub(crate) async fn query<F>(
        self,
        call: F,
        timeout: Duration,
        parked: &mut Option<LateCall>,
    ) -> Result<redis::RedisResult<Vec<Value>>, Elapsed>
    where
        F: Future<Output = redis::RedisResult<Vec<Value>>> + Send + 'static,
    {
        let mut call: Call = Box::pin(call);
        match tokio::time::timeout(timeout, &mut call).await {
            Ok(r) => Ok(r),
            Err(elapsed) => {
                let pending = Pending::new(&self.fleet);
                *parked = Some(LateCall {
                    late: self,
                    call,
                    _pending: pending,
                });
                Err(elapsed)
            }
        }
    }

    /// Gives the slot back (one attempt: if Redis fails again, the slot stays taken).
    async fn refund(self) {
        let (Some(inner), Some(interval_ms)) = (self.fleet.upgrade(), self.interval_ms) else {
            return;
        };
        let mut cmd = REFUND_SCRIPT.start(1);
        cmd.arg(&self.key.rpm)
            .arg(chrono::Utc::now().timestamp_millis())
            .arg(interval_ms);
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
