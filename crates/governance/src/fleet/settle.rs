//! Settlement through Redis: the hold an admission leaves, the queue its settlement waits
//! in, and the task that sends what no admission carried.
//!
//! Settlements ride along: each admission's round trip carries the settlements queued since
//! the last one (a pipeline: `SETTLE…, ADMIT`), so under load a request costs one round trip
//! in all. A settlement no admission picked up within `settle_delay` (20 ms) is sent by the
//! settlement task on its own. Waiting only delays when a hold is swapped for the actual
//! cost; the hold (the worst case) stays counted meanwhile, so it never lets more through.

use super::prepared::{Prepared, Window};
use super::scripts::SETTLE_SCRIPT;
use super::shared::script_pipe;
use super::{Inner, lock, nano};
use chrono::{DateTime, Utc};
use std::sync::{Arc, Weak};
use switchyard_primitives::Money;

/// Most settlements sent in one pipeline.
const SETTLE_BATCH: usize = 256;

/// A hold in Redis, settled (or released when dropped) through the settlement queue.
#[derive(Debug)]
pub(crate) struct SharedHold {
    settle: Option<Settle>,
    fleet: Weak<Inner>,
}

/// One queued settlement.
#[derive(Debug, Clone)]
pub(crate) struct Settle {
    pub(crate) key: Arc<Prepared>,
    seq: u64,
    tpm: bool,
    actual_nano: i64,
    tokens: u64,
    pub(crate) at: DateTime<Utc>,
    /// A resend of a settlement whose first send timed out (it may have run).
    pub(crate) resend: bool,
    /// Its admission timed out: the `rpm` slot it may have taken in Redis is given back
    /// (the request was refused, or is counted under the local share instead).
    refund: bool,
}

impl SharedHold {
    /// A hold of nothing in Redis (a key with only an `rpm` limit).
    pub(crate) fn none() -> Self {
        SharedHold {
            settle: None,
            fleet: Weak::new(),
        }
    }

    /// The hold of admission `seq`, which may or may not have reached Redis (a call that
    /// timed out): settling it releases whatever Redis holds for it and counts the spend.
    pub(crate) fn new(inner: &Arc<Inner>, key: Arc<Prepared>, tpm: bool, seq: u64) -> Self {
        let at = Utc::now();
        let settle = Settle {
            key,
            seq,
            tpm,
            actual_nano: 0,
            tokens: 0,
            at,
            resend: false,
            refund: false,
        };
        SharedHold {
            settle: Some(settle),
            fleet: Arc::downgrade(inner),
        }
    }

    /// The hold of an admission whose Redis call timed out: settled or dropped, it also gives
    /// back the `rpm` slot the call took if it ran.
    pub(crate) fn timed_out(mut self) -> Self {
        if let Some(s) = &mut self.settle {
            s.refund = true;
        }
        self
    }

    pub(crate) fn settle(mut self, actual_usd: Money, actual_tokens: u64, now: DateTime<Utc>) {
        if let Some(mut s) = self.settle.take() {
            s.actual_nano = nano(actual_usd);
            s.tokens = if s.tpm { actual_tokens } else { 0 };
            s.at = now;
            self.send(s);
        }
    }

    fn send(&self, s: Settle) {
        if let Some(inner) = self.fleet.upgrade() {
            inner.queue_settle(s);
        }
    }
}

impl Drop for SharedHold {
    fn drop(&mut self) {
        // Unsettled: release the hold without charge (the lease would, later).
        if let Some(mut s) = self.settle.take() {
            s.at = Utc::now();
            self.send(s);
        }
    }
}

impl Inner {
    /// The settlement command of `s` (its budget hashes are those of the settlement time).
    pub(crate) fn settle_cmd(&self, s: &Settle) -> redis::Cmd {
        let at_ms = s.at.timestamp_millis();
        let windows: Vec<Window> = (0..s.key.budgets.len())
            .map(|i| s.key.window(i, s.at))
            .collect();
        let mut cmd = SETTLE_SCRIPT.start(3 + windows.len());
        cmd.arg(&s.key.lease).arg(&s.key.leases).arg(&s.key.tpm);
        for w in &windows {
            cmd.arg(&*w.hash);
        }
        cmd.arg(&self.opts.replica_id)
            .arg(s.seq)
            .arg(s.actual_nano)
            .arg(s.tokens)
            .arg(at_ms)
            .arg(i64::from(s.resend) + 2 * i64::from(s.refund));
        for w in &windows {
            cmd.arg(w.ttl_ms(at_ms));
        }
        cmd
    }

    /// Queues a settlement for the next admission's round trip, and wakes the settlement
    /// task in case none comes within `settle_delay`.
    pub(crate) fn queue_settle(&self, s: Settle) {
        let first = {
            let mut q = lock(&self.settles);
            q.push(s);
            q.len() == 1
        };
        if first {
            self.settle_wake.notify_one();
        }
    }

    pub(crate) fn take_settles(&self) -> Vec<Settle> {
        let mut q = lock(&self.settles);
        if q.len() <= SETTLE_BATCH {
            return std::mem::take(&mut *q);
        }
        q.drain(..SETTLE_BATCH).collect()
    }
}

/// Sends the settlements no admission carried within `settle_delay`, pipelined, until the
/// fleet is dropped. A batch Redis did not take is kept as deferred (sent again when it is
/// back); its holds expire with their leases meanwhile.
pub(crate) fn spawn_settler(inner: Weak<Inner>) {
    tokio::spawn(async move {
        loop {
            let Some((wake, delay)) = inner
                .upgrade()
                .map(|i| (i.settle_wake.clone(), i.opts.settle_delay))
            else {
                return;
            };
            wake.notified().await;
            tokio::time::sleep(delay).await;
            let Some(inner) = inner.upgrade() else { return };
            loop {
                let batch = inner.take_settles();
                if batch.is_empty() {
                    break;
                }
                if !inner.link.is_up() {
                    inner.defer(batch, false);
                    break;
                }
                let mut pipe = script_pipe();
                for s in &batch {
                    pipe.add_command(inner.settle_cmd(s));
                }
                if inner.send_all(&pipe, None).await.is_none() {
                    inner.defer(batch, true);
                    break;
                }
            }
        }
    });
}
