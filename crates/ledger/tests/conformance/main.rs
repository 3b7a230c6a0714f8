//! The backend conformance suite: every test of the store traits (`RecordSink`, `Store`,
//! `HistoryReader`, `SpendSource`, `keys::Store`, `batch::Store`, `responses::Store`) runs against SQLite and against the real
//! PostgreSQL (`backend.rs` says how each is set up and torn down).

#![expect(clippy::unwrap_used, reason = "tests")]

mod backend;
mod batch;
mod dashboard;
mod keys;
mod reads;
mod records;
mod responses;
mod savings;
