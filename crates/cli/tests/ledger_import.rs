//! `switchyard ledger import` as a user runs it: a refused file (here a misspelt column) exits
//! 2, names the column and its nearest known one, and leaves no ledger file behind;
//! `--ignore-column` imports it on purpose.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MISSPELT: &str = "ts,provider,model,input_tokens,output_tokens,cost_us\n2026-01-05,openai,gpt-4o,1000000,0,8000\n";

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("switchyard-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn import(dir: &Path, extra: &[&str]) -> Output {
    let file = dir.join("usage.csv");
    std::fs::write(&file, MISSPELT).unwrap();
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["ledger", "import"])
        .arg(&file)
        .arg("--ledger")
        .arg(dir.join("ledger.db"))
        .args(extra)
        .env_remove("SWITCHYARD_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn a_misspelt_column_exits_2_naming_it_and_leaves_no_ledger_file_behind() {
    let dir = temp_dir("refused");
    let out = import(&dir, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(r#"unknown column "cost_us" (did you mean "cost_usd"?)"#),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ledger.db"))
        .collect();
    assert!(left.is_empty(), "a refused import left {left:?}");
}

#[test]
fn ignore_column_imports_the_file_without_that_column() {
    let dir = temp_dir("ignored");
    let out = import(&dir, &["--ignore-column", "cost_us"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 1"));
    assert!(dir.join("ledger.db").exists());
}
