//! The heartbeat: every `heartbeat` the replica refreshes its entry in the live set, learns
//! how many replicas are live and the key-change version (the polling fallback for the
//! pub/sub notice), and, being the one operation tried while Redis is out, probes it. A
//! failed call wakes it at once: its failure confirms the outage, its success ends it. The
//! beat that finds Redis back first tells it what happened meanwhile (the spend settled and
//! the requests admitted under local shares, the settlements it missed), and only then
//! lets requests go to Redis again.

use super::fallback::Leftover;
use super::scripts::{HEARTBEAT_SCRIPT, RECONCILE_SCRIPT, TAKE_SCRIPT};
use super::{Inner, lock, nano};
use chrono::{DateTime, Utc};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

/// The pause between two probes of a suspect link (each probe itself waits up to
/// `timeout_ms`).
const SUSPECT_PROBE_GAP: std::time::Duration = std::time::Duration::from_millis(5);

pub(crate) fn spawn(inner: Weak<Inner>) {
    tokio::spawn(async move {
        let Some(every) = inner.upgrade().map(|i| i.opts.heartbeat) else {
            return;
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let Some(probe) = inner.upgrade() else { return };
            // A failed call asks for a probe now rather than at the next tick.
            tokio::select! {
                _ = tick.tick() => {}
                () = probe.link.probe.notified() => {}
            }
            drop(probe);
            let Some(inner) = inner.upgrade() else { return };
            // While the link is suspect the probes follow each other (each bounded by
            // `timeout_ms`), so one is always waiting in Redis: when a stall ends, every
            // replica's link is up again, and what it counted locally is in Redis, within a
            // round trip of the others'. A local share is not spent against a Redis that
            // another replica already uses again for long.
            while !beat(&inner, Utc::now()).await && !inner.link.is_up() && !inner.link.is_down() {
                tokio::time::sleep(SUSPECT_PROBE_GAP).await;
            }
        }
    });
}

/// One heartbeat; true when Redis answered.
pub(crate) async fn beat(inner: &Arc<Inner>, now: DateTime<Utc>) -> bool {
    let now_ms = now.timestamp_millis();
    let stale_ms = i64::try_from(inner.opts.heartbeat.as_millis() * 3).unwrap_or(i64::MAX / 4);
    let keys = [inner.replicas_key(), inner.keys_version_key()];
    let args = [
        inner.opts.replica_id.clone(),
        now_ms.to_string(),
        (now_ms - stale_ms).to_string(),
    ];
    let was_up = inner.link.is_up();
    let mut conn = inner.conn.clone();
    let call = HEARTBEAT_SCRIPT.run::<Vec<String>>(&mut conn, &keys, &args);
    let outcome = tokio::time::timeout(inner.opts.op_timeout, call).await;
    let reply = match outcome {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return failed(inner, was_up, &e.to_string(), e.is_timeout()),
        Err(_) => {
            let message = super::link::timeout_message(inner.opts.op_timeout);
            return failed(inner, was_up, &message, true);
        }
    };
    let count = reply
        .first()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1);
    inner.replicas.store(count.max(1), Ordering::Relaxed);
    let version = reply
        .get(1)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    inner.keys_version.send_if_modified(|v| {
        let changed = *v != version;
        *v = version;
        changed
    });
    if !inner.scripts_loaded.load(Ordering::Relaxed) || !inner.link.is_up() {
        load_scripts(inner).await;
    }
    if !inner.link.is_up() {
        if let Some(settles) = recover(inner).await {
            // The slots that timed-out calls took are given back first (see `late`).
            inner.late_settled(inner.opts.op_timeout).await;
            *lock(&inner.recovered_at) = Some(std::time::Instant::now());
            inner.link.succeeded();
            for s in settles {
                inner.queue_settle(s);
            }
        }
    }
    true
}

/// Loads every script into the server's cache (the first beat, and a Redis back after a
/// failure may have restarted empty), so admissions do not each meet `NOSCRIPT` first: a
/// call caught by a stall would then wait only to learn that it did not run.
async fn load_scripts(inner: &Inner) {
    let mut load = redis::pipe();
    for s in super::scripts::all() {
        load.add_command(s.load_cmd()).ignore();
    }
    if inner
        .pipeline::<()>(&load, inner.opts.op_timeout)
        .await
        .is_some()
    {
        inner.scripts_loaded.store(true, Ordering::Relaxed);
    }
}

/// The heartbeat did not reach Redis: a link already in doubt is now confirmed down if the
/// probe failed outright or Redis has been timing out for three heartbeats (a Redis that is
/// only slow stays suspect).
fn failed(inner: &Inner, was_up: bool, message: &str, timed_out: bool) -> bool {
    if was_up || (timed_out && inner.link.suspect_for() < inner.opts.heartbeat * 3) {
        inner.link.failed(message);
    } else {
        inner.link.confirm_down(message);
        tracing::warn!(
            replicas = inner.replicas(),
            fallback_admissions = inner.fallback_admissions.load(Ordering::Relaxed),
            error = inner.link.last_error().unwrap_or_default(),
            "fleet: redis still unreachable; enforcing this replica's share locally"
        );
    }
    false
}

/// Redis answers again: tells it what was counted locally (spend, requests); the
/// settlements it missed, to resend once the link is up. `None` (nothing lost: kept for the
/// next beat) when that failed.
async fn recover(inner: &Inner) -> Option<Vec<super::settle::Settle>> {
    let mut left = lock(&inner.outage).end();
    let settles = std::mem::take(&mut left.settles);
    if left.only_settles() {
        return Some(settles);
    }
    if flush(inner, &left).await {
        tracing::info!(
            budgets = left.spend.len(),
            keys = left.taken.len(),
            token_buckets = left.tokens.len(),
            "fleet: spend, requests and tokens counted locally added to redis"
        );
        Some(settles)
    } else {
        left.settles = settles;
        lock(&inner.outage).restore(left);
        None
    }
}

/// Adds deferred spend to each budget hash it belongs to (the reconcile script, no ledger
/// figure), locally admitted requests to each shared `rpm` bucket, and locally settled
/// tokens to each `tpm` window's buckets still inside its minute (older ones no longer
/// count; the admit script would drop them).
async fn flush(inner: &Inner, left: &Leftover) -> bool {
    let now = Utc::now();
    let mut pipe = redis::pipe();
    let now_s = now.timestamp_millis().div_euclid(1000);
    for ((tpm_key, second), tokens) in &left.tokens {
        if second + 60 > now_s {
            pipe.hincr(tpm_key, second, *tokens).ignore();
            pipe.pexpire(tpm_key, 120_000).ignore();
        }
    }
    for ((key_id, period, start), amount) in &left.spend {
        let key = super::prepared::budget_hash(&inner.opts.prefix, key_id, *period, *start);
        let args = [
            nano(*amount).to_string(),
            "-1".to_owned(),
            super::budget_ttl_ms(*period, now).to_string(),
        ];
        pipe.add_command(RECONCILE_SCRIPT.cmd(&[key], &args))
            .ignore();
    }
    for (_, (rpm_key, rpm, n)) in &left.taken {
        let mut cmd = TAKE_SCRIPT.start(1);
        cmd.arg(rpm_key)
            .arg(now.timestamp_millis())
            .arg(*n)
            .arg(*rpm);
        pipe.add_command(cmd).ignore();
    }
    inner
        .pipeline::<()>(&pipe, inner.opts.op_timeout)
        .await
        .is_some()
}
