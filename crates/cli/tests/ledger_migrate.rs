//! `switchyard ledger migrate` migrates the ledger and the eval store, on both backends, and
//! says what it did for each: from which schema version to which, or that it was up to date.
//! A store it cannot reach is a clear error that never shows the URL's password.
//!
//! The PostgreSQL half uses the server at 127.0.0.1:5432 (database `test`;
//! `SWITCHYARD_TEST_PG` overrides), in a schema of its own dropped at the end; it skips with a
//! message when there is none, except under `CI`, where that fails.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

#[expect(dead_code, reason = "the ledger builders in common serve cli.rs")]
mod common;

use common::{run, scratch};
use switchyard_ledger::ScratchSchema;

const PASSWORD: &str = "pw-never-shown-9921";

fn migrate_ok(dir: &std::path::Path, args: &[&str]) -> Vec<String> {
    let r = run(dir, &[&["ledger", "migrate"], args].concat());
    assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
    r.stdout.lines().map(str::to_string).collect()
}

/// The newest schema versions of this build, read from what a fresh migrate printed.
fn to_version(line: &str) -> String {
    line.rsplit(' ').next().unwrap().to_string()
}

#[test]
fn migrate_creates_and_reports_the_ledger_and_the_eval_store_beside_a_sqlite_file() {
    let dir = scratch();
    let first = migrate_ok(&dir, &["--ledger", "books.db"]);
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(
        first[0].starts_with("ledger books.db: migrated from schema version 0 to "),
        "{first:?}"
    );
    assert!(
        first[1].starts_with("eval store books-eval.db: migrated from schema version 0 to "),
        "{first:?}"
    );
    assert_eq!(
        to_version(&first[1]),
        switchyard_evalstore::latest_schema_version().to_string()
    );
    assert!(dir.join("books.db").exists() && dir.join("books-eval.db").exists());
    let (ledger_v, eval_v) = (to_version(&first[0]), to_version(&first[1]));
    let again = migrate_ok(&dir, &["--ledger", "books.db"]);
    assert_eq!(
        again,
        [
            format!("ledger books.db: schema version {ledger_v}, up to date"),
            format!("eval store books-eval.db: schema version {eval_v}, up to date"),
        ]
    );
    // [eval] path in the config file, and --eval, name another place.
    std::fs::write(
        dir.join("sy.toml"),
        "[ledger]\npath = \"books.db\"\n[eval]\npath = \"evals/store.db\"\n",
    )
    .unwrap();
    let by_config = migrate_ok(&dir, &["--config", "sy.toml"]);
    assert!(
        by_config[1].starts_with("eval store evals/store.db: migrated from schema version 0"),
        "{by_config:?}"
    );
    let by_flag = migrate_ok(&dir, &["--ledger", "books.db", "--eval", "other.db"]);
    assert!(
        by_flag[1].starts_with("eval store other.db: migrated from schema version 0"),
        "{by_flag:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn schema() -> Option<ScratchSchema> {
    common::pg_schema("sy_cli_migrate")
}

fn pg_one(url: &str, sql: &str) -> i64 {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.query_one(sql.as_str(), &[]).unwrap().get(0)
    })
    .join()
    .unwrap()
}

fn pg_exec(url: &str, sql: &str) {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute(&sql).unwrap();
    })
    .join()
    .unwrap();
}

#[test]
fn migrate_brings_both_stores_in_a_postgres_database_up_and_never_shows_the_password() {
    let Some(schema) = schema() else { return };
    let dir = scratch();
    // Trust authentication ignores the password; it is there to be masked.
    let url = schema
        .url()
        .replacen("://postgres@", &format!("://postgres:{PASSWORD}@"), 1);
    assert!(url.contains(PASSWORD), "the scratch URL names its user");
    let r = run(&dir, &["ledger", "migrate", "--ledger", &url]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!format!("{}{}", r.stdout, r.stderr).contains(PASSWORD));
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("ledger postgres://"), "{lines:?}");
    assert!(
        lines[0].contains(": migrated from schema version 0 to "),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("eval store postgres://"), "{lines:?}");
    let latest = switchyard_evalstore::latest_schema_version();
    assert!(
        lines[1].ends_with(&format!(": migrated from schema version 0 to {latest}")),
        "{lines:?}"
    );
    // Both stores' tables are in the one database (the ledger's own schema).
    let eval_v = pg_one(schema.url(), "SELECT MAX(version) FROM eval_migrations");
    assert_eq!(eval_v, latest);
    let ledger_v = pg_one(schema.url(), "SELECT MAX(version) FROM schema_migrations");
    assert!(lines[0].ends_with(&format!(" to {ledger_v}")), "{lines:?}");
    assert_eq!(
        pg_one(schema.url(), "SELECT COUNT(*) FROM captures"),
        0,
        "the eval store's tables exist"
    );
    // A store one step behind (as one made by the previous build) is brought up by one step.
    pg_exec(
        schema.url(),
        &format!(
            "DROP INDEX shadow_by_request; ALTER TABLE shadow_results DROP COLUMN request_id;
             DELETE FROM eval_migrations WHERE version = {latest}"
        ),
    );
    let again = migrate_ok(&dir, &["--ledger", &url]);
    assert!(again[0].ends_with(", up to date"), "{again:?}");
    assert!(
        again[1].ends_with(&format!(
            ": migrated from schema version {} to {latest}",
            latest - 1
        )),
        "{again:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_eval_store_that_cannot_be_reached_fails_the_command_after_the_ledger_and_says_so() {
    let dir = scratch();
    let bad = format!("postgres://sy:{PASSWORD}@127.0.0.1:1/nowhere?connect_timeout=2");
    let r = run(
        &dir,
        &["ledger", "migrate", "--ledger", "l.db", "--eval", &bad],
    );
    assert_ne!(r.code, 0);
    assert!(
        r.stdout
            .starts_with("ledger l.db: migrated from schema version 0"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("the ledger is migrated, the eval store is not: cannot open the eval store"),
        "{}",
        r.stderr
    );
    assert!(!format!("{}{}", r.stdout, r.stderr).contains(PASSWORD));
    let _ = std::fs::remove_dir_all(&dir);
}
