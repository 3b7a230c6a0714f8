//! The dashboard: the pages at `/ui` (HTML, CSS and JavaScript modules embedded in the
//! binary with `include_str!`, so `cargo install` needs no Node and the pages work offline)
//! and the JSON API under `/v1/dashboard/*` they read. Each handler identifies the viewer
//! ([`viewer`]), parses its query ([`params`]) and calls the same ledger, strategy and
//! evaluation functions as the CLI ([`read`] runs them on the blocking pool).
//!
//! The pages carry no secret: the browser keeps the key it signed in with in
//! `sessionStorage` and sends it as `Authorization: Bearer` on every API call. Key creation,
//! rotation and revocation go through `/admin/keys` unchanged.

pub mod assets;
pub mod contracts;
pub mod keys;
pub mod overview;
mod params;
mod read;
pub mod strategy;
pub mod traffic;
mod viewer;
