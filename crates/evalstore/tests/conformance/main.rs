//! The eval store's conformance suite: every test of the `Store` trait runs against a fresh
//! SQLite file and against the real PostgreSQL (a schema of its own per test; `backend.rs`).

#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod backend;
mod captures;
mod copy;
mod datasets;
mod runs;
