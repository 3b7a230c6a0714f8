//! Key-change notices: a replica that created, updated, rotated or revoked a key bumps a
//! version in Redis and publishes it; every replica's listener (pub/sub) sees it at once and
//! the heartbeat reads the version as the fallback, so a change reaches each replica within
//! one heartbeat even if a message was lost. The watcher reloads keys from the key store.

use super::{Fleet, Inner};
use futures_util::StreamExt;
use std::sync::Weak;
use std::time::Duration;
use tokio::sync::watch;

impl Fleet {
    /// Tells every replica that the key store changed; false when Redis is unreachable (the
    /// others then see it by polling the store).
    pub async fn announce_key_change(&self) -> bool {
        let i = &self.inner;
        let mut incr = redis::cmd("INCR");
        incr.arg(i.keys_version_key());
        let Some(version) = i.exec::<u64>(&incr).await else {
            return false;
        };
        let _ = i.keys_version.send_replace(version);
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(i.keys_channel()).arg(version);
        i.exec::<u64>(&publish).await.is_some()
    }

    /// The key-change version: changes when any replica announces a change.
    pub fn key_changes(&self) -> watch::Receiver<u64> {
        self.inner.keys_version.subscribe()
    }
}

/// Listens on the key-change channel, resubscribing after a lost connection, until the fleet
/// is dropped.
pub(crate) fn spawn_listener(inner: Weak<Inner>) {
    tokio::spawn(async move {
        loop {
            let Some((client, channel, every)) = inner
                .upgrade()
                .map(|i| (i.client.clone(), i.keys_channel(), i.opts.heartbeat))
            else {
                return;
            };
            if let Ok(Ok(mut pubsub)) =
                tokio::time::timeout(Duration::from_secs(2), client.get_async_pubsub()).await
            {
                if pubsub.subscribe(&channel).await.is_ok() && !listen(&inner, pubsub, every).await
                {
                    return;
                }
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// Applies notices until the connection drops (true: reconnect) or the fleet is gone (false).
async fn listen(inner: &Weak<Inner>, pubsub: redis::aio::PubSub, every: Duration) -> bool {
    let mut messages = pubsub.into_on_message();
    loop {
        match tokio::time::timeout(every * 5, messages.next()).await {
            Ok(Some(msg)) => {
                let Some(i) = inner.upgrade() else {
                    return false;
                };
                if let Ok(version) = msg.get_payload::<u64>() {
                    i.keys_version.send_if_modified(|v| {
                        let newer = version > *v;
                        *v = (*v).max(version);
                        newer
                    });
                }
            }
            Ok(None) => return true,
            Err(_) if inner.strong_count() == 0 => return false,
            Err(_) => {}
        }
    }
}
