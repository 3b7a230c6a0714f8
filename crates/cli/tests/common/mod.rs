//! Running the real `switchyard` binary in a scratch directory, with ledgers built by its own
//! `ledger import` from the documented generic CSV columns.

#![expect(
    clippy::unwrap_used,
    reason = "test harness: a setup failure should fail the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// What one run of the binary printed, and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A fresh scratch directory per call.
pub fn scratch() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("switchyard-cli-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `switchyard ARGS…` in `dir` (no config file from the environment).
pub fn run(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(dir)
        .env_remove("SWITCHYARD_CONFIG")
        .env("SWITCHYARD_LOG", "error")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One imported row: day (YYYY-MM-DD), workload, provider, model, tokens in/out, cost.
#[derive(Clone)]
pub struct Row<'a> {
    pub day: String,
    pub workload: &'a str,
    pub provider: &'a str,
    pub model: &'a str,
    pub input: u64,
    pub output: u64,
    pub requests: u64,
    pub cost: &'a str,
}

/// A ledger at `dir/ledger.db` holding `rows`, imported with the real CLI.
pub fn ledger(dir: &Path, rows: &[Row]) -> PathBuf {
    let mut csv =
        String::from("ts,workload,provider,model,input_tokens,output_tokens,requests,cost_usd\n");
    for r in rows {
        csv.push_str(&format!(
            "{}T12:00:00Z,{},{},{},{},{},{},{}\n",
            r.day, r.workload, r.provider, r.model, r.input, r.output, r.requests, r.cost
        ));
    }
    std::fs::write(dir.join("usage.csv"), csv).unwrap();
    let db = dir.join("ledger.db");
    let r = run(
        dir,
        &[
            "ledger",
            "import",
            "usage.csv",
            "--ledger",
            db.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "import failed: {}{}", r.stdout, r.stderr);
    db
}

/// The day `back` days before today (UTC), as YYYY-MM-DD.
pub fn days_ago(back: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(back)).to_string()
}

/// A scratch schema named `prefix_…` on the test PostgreSQL (127.0.0.1:5432 database `test`;
/// `SWITCHYARD_TEST_PG` overrides), dropped when the value is. `None` (the test skips with a
/// message) when there is none, except under `CI`, where that fails.
pub fn pg_schema(prefix: &str) -> Option<switchyard_ledger::ScratchSchema> {
    let admin = std::env::var("SWITCHYARD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match switchyard_ledger::ScratchSchema::create(&admin, prefix) {
        Ok(s) => Some(s),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL must be reachable at {admin} in CI: {e}"
            );
            eprintln!("skipping: no PostgreSQL at {admin}: {e}");
            None
        }
    }
}
