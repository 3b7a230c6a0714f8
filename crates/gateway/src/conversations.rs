//! The Responses API's stored conversations, kept off the request path's critical section.
//!
//! Writes go to a bounded channel drained by one writer thread with its own connection (a full
//! channel drops the write and logs it: the client's answer never waits on the database). Until
//! the writer has committed a row it sits in `pending`, so a client that sends the next turn at
//! once still finds its `previous_response_id`. Deletes go through the same channel, so one
//! never overtakes the write it deletes. Reads (one primary-key lookup, owner-scoped) run on
//! tokio's blocking pool. The writer purges expired rows at start and hourly.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_ledger::responses::{Row, Store};
use switchyard_ledger::{LedgerError, Location};

/// How many writes may wait for the writer.
const QUEUE: usize = 1024;
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// The conversation store: cheap to clone, every clone shares one writer.
#[derive(Clone)]
pub(crate) struct Conversations {
    reader: Arc<Mutex<Box<dyn Store>>>,
    pending: Arc<Mutex<HashMap<String, Row>>>,
    tx: SyncSender<Job>,
    pub(crate) retention: Duration,
}

enum Job {
    Put(Row),
    Delete {
        id: String,
        key_id: String,
        done: std::sync::mpsc::Sender<Result<bool, LedgerError>>,
    },
}

impl Conversations {
    /// Opens the store in the ledger's database and starts its writer thread.
    pub(crate) fn open(location: &Location, retention: Duration) -> Result<Self, LedgerError> {
        let reader = location.open_responses()?;
        let writer = location.open_responses()?;
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let pending = Arc::new(Mutex::new(HashMap::new()));
        let shared = Arc::clone(&pending);
        std::thread::Builder::new()
            .name("switchyard-responses".into())
            .spawn(move || write_loop(writer.as_ref(), &rx, &shared))
            .map_err(|e| LedgerError::Corrupt(format!("cannot start the responses writer: {e}")))?;
        Ok(Conversations {
            reader: Arc::new(Mutex::new(reader)),
            pending,
            tx,
            retention,
        })
    }

    /// Queues a response for storage; it is readable at once.
    pub(crate) fn save(&self, row: Row) {
        let id = row.id.clone();
        self.pending_map().insert(id.clone(), row.clone());
        match self.tx.try_send(Job::Put(row)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.pending_map().remove(&id);
                tracing::warn!(response = %id, "responses store queue full: response not stored");
            }
        }
    }

    /// The response `id` made by `key_id`, unexpired; pending writes first.
    pub(crate) async fn get(&self, id: &str, key_id: &str) -> Result<Option<Row>, LedgerError> {
        let now = now_secs();
        if let Some(r) = self.pending_map().get(id) {
            return Ok((r.key_id == key_id && r.expires_at > now).then(|| r.clone()));
        }
        let reader = Arc::clone(&self.reader);
        let (id, key_id) = (id.to_string(), key_id.to_string());
        let read = move || lock(&reader).get(&id, &key_id, now);
        tokio::task::spawn_blocking(read)
            .await
            .map_err(|e| LedgerError::Corrupt(format!("responses read: {e}")))?
    }

    /// Deletes the response `id` made by `key_id`; whether there was one.
    pub(crate) async fn delete(&self, id: &str, key_id: &str) -> Result<bool, LedgerError> {
        let was_pending = {
            let mut p = self.pending_map();
            match p.get(id) {
                Some(r) if r.key_id == key_id => p.remove(id).is_some(),
                _ => false,
            }
        };
        let (done, answer) = std::sync::mpsc::channel();
        let job = Job::Delete {
            id: id.to_string(),
            key_id: key_id.to_string(),
            done,
        };
        let tx = self.tx.clone();
        let wait = move || {
            tx.send(job)
                .map_err(|_| LedgerError::Corrupt("the responses writer has stopped".into()))?;
            answer
                .recv()
                .map_err(|_| LedgerError::Corrupt("the responses writer has stopped".into()))?
        };
        let deleted = tokio::task::spawn_blocking(wait)
            .await
            .map_err(|e| LedgerError::Corrupt(format!("responses delete: {e}")))??;
        Ok(deleted || was_pending)
    }

    fn pending_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Row>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn lock(m: &Mutex<Box<dyn Store>>) -> std::sync::MutexGuard<'_, Box<dyn Store>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Commits each queued row, then forgets it from `pending`; purges expired rows hourly.
fn write_loop(store: &dyn Store, rx: &Receiver<Job>, pending: &Mutex<HashMap<String, Row>>) {
    purge(store);
    loop {
        match rx.recv_timeout(PURGE_EVERY) {
            Ok(Job::Put(row)) => {
                if let Err(e) = store.put(&row) {
                    tracing::warn!(response = %row.id, error = %e, "could not store a response");
                }
                let mut p = pending.lock().unwrap_or_else(|p| p.into_inner());
                // A later write of the same id may have replaced it meanwhile.
                if p.get(&row.id) == Some(&row) {
                    p.remove(&row.id);
                }
            }
            Ok(Job::Delete { id, key_id, done }) => {
                let _ = done.send(store.delete(&id, &key_id));
            }
            Err(RecvTimeoutError::Timeout) => purge(store),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn purge(store: &dyn Store) {
    match store.purge(now_secs()) {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "expired stored responses removed"),
        Err(e) => tracing::warn!(error = %e, "could not purge expired responses"),
    }
}

pub(crate) fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}
