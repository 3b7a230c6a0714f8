//! Responses API conversation state (`responses`, in the ledger's database): rows only. What
//! a row's JSON means (the response object, input items) belongs to the protocol and gateway
//! crates; this module stores text, keyed by response id and owned by one key.
//!
//! Ownership is part of every read: [`Store::get`] and [`Store::delete`] match the id *and*
//! the key, so another key's id reads as absent and its existence never leaks. An expired row
//! reads as absent before [`Store::purge`] removes it.

use crate::LedgerError;

/// One stored response. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    /// The virtual key that made it; `""` for the master key or a gateway without keys.
    pub key_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// The response object, as the client received it (JSON).
    pub response: String,
    /// The request's own input items (JSON array), for `GET /v1/responses/{id}/input_items`.
    pub input_items: String,
    /// The whole conversation up to and including this response's output, as input items
    /// (JSON array): what a later `previous_response_id` prepends.
    pub conversation: String,
}

/// Where responses are kept. Backends must pass the same conformance tests.
pub trait Store: Send {
    /// Stores a response; an id already stored is replaced (a retried write is harmless).
    fn put(&self, row: &Row) -> Result<(), LedgerError>;

    /// The response `id` if `key_id` made it and it has not expired at `now`.
    fn get(&self, id: &str, key_id: &str, now: i64) -> Result<Option<Row>, LedgerError>;

    /// Deletes the response `id` if `key_id` made it; whether one was deleted.
    fn delete(&self, id: &str, key_id: &str) -> Result<bool, LedgerError>;

    /// Removes every response expired at `now`; how many.
    fn purge(&self, now: i64) -> Result<u64, LedgerError>;
}
