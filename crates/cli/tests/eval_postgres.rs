//! `switchyard eval …` on a PostgreSQL eval store: by `--store URL`, and by default in a
//! PostgreSQL ledger's database; the same output as on a SQLite store for the same data; a
//! store that cannot be reached is a clear error that never shows the URL's password.
//!
//! Uses the PostgreSQL at 127.0.0.1:5432 (database `test`; `SWITCHYARD_TEST_PG` overrides),
//! in a schema of its own dropped at the end; skips with a message when there is none, except
//! under `CI`, where that fails.

#[expect(dead_code, reason = "the ledger builders in common serve cli.rs")]
mod common;

use common::{run, scratch};
use switchyard_ledger::ScratchSchema;

fn schema() -> Option<ScratchSchema> {
    let admin = std::env::var("SWITCHYARD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match ScratchSchema::create(&admin, "sy_cli_eval") {
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

const ITEMS: &str = r#"{"id": "refund-1", "system": "You are a support agent.", "prompt": "Can I return shoes after 30 days?", "expected": "no", "tags": {"lang": "en"}}
{"id": "refund-2", "prompt": "Où est ma commande ?", "expected": "livrée"}
"#;

/// Runs an eval command against `store`, expecting success; its stdout.
fn eval_ok(dir: &std::path::Path, args: &[&str]) -> String {
    let r = run(dir, args);
    assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
    r.stdout
}

#[test]
fn eval_commands_read_and_write_a_postgres_store_with_the_same_output_as_sqlite() {
    let Some(schema) = schema() else { return };
    let dir = scratch();
    std::fs::write(dir.join("items.jsonl"), ITEMS).unwrap();
    let sqlite = dir.join("eval.db").display().to_string();
    let mut shown = Vec::new();
    for store in [schema.url(), sqlite.as_str()] {
        let import = [
            "eval",
            "dataset",
            "import",
            "items.jsonl",
            "--name",
            "support",
        ];
        eval_ok(
            &dir,
            &[&import[..], &["--workload", "support", "--store", store]].concat(),
        );
        eval_ok(&dir, &[&import[..], &["--store", store]].concat());
        let show = eval_ok(
            &dir,
            &[
                "eval",
                "dataset",
                "show",
                "support@v1",
                "--json",
                "--store",
                store,
            ],
        );
        let latest = eval_ok(
            &dir,
            &[
                "eval", "dataset", "show", "support", "--json", "--store", store,
            ],
        );
        let mut v: serde_json::Value = serde_json::from_str(&show).unwrap();
        let mut w: serde_json::Value = serde_json::from_str(&latest).unwrap();
        assert_eq!(
            w.pointer("/dataset/version")
                .or(w.get("version"))
                .cloned()
                .unwrap_or_default(),
            2,
            "{latest}"
        );
        // The creation time differs between the two stores; everything else must not.
        for x in [&mut v, &mut w] {
            if let Some(d) = x.get_mut("dataset").and_then(|d| d.as_object_mut()) {
                d.remove("created");
            }
            if let Some(d) = x.as_object_mut() {
                d.remove("created");
            }
        }
        let caps = eval_ok(&dir, &["eval", "captures", "--store", store]);
        let ready = eval_ok(&dir, &["eval", "readiness", "--json", "--store", store]);
        shown.push((v, w, caps, ready));
    }
    assert_eq!(shown[0], shown[1]);
    let (v1, ..) = &shown[0];
    let text = v1.to_string();
    assert!(
        text.contains("refund-1") && text.contains("Où est ma commande"),
        "{text}"
    );
}

#[test]
fn a_postgres_ledger_holds_the_eval_store_by_default() {
    let Some(schema) = schema() else { return };
    let dir = scratch();
    std::fs::write(dir.join("items.jsonl"), ITEMS).unwrap();
    let config = format!("[ledger]\npath = \"{}\"\n", schema.url());
    std::fs::write(dir.join("sy.toml"), config).unwrap();
    let cfg = ["--config", "sy.toml"];
    eval_ok(
        &dir,
        &[
            &[
                "eval",
                "dataset",
                "import",
                "items.jsonl",
                "--name",
                "nightly",
            ][..],
            &cfg,
        ]
        .concat(),
    );
    let list = eval_ok(&dir, &[&["eval", "dataset", "list"][..], &cfg].concat());
    assert!(list.contains("nightly@v1"), "{list}");
    // It is in the ledger's database, not in a file beside the process.
    let store = switchyard_evalstore::open(std::path::Path::new(schema.url())).unwrap();
    assert_eq!(store.datasets().unwrap()[0].id, "nightly@v1");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".db"))
        .collect();
    assert!(files.is_empty(), "{files:?}");
}

#[test]
fn an_unreachable_postgres_store_is_a_clear_error_without_the_password() {
    let dir = scratch();
    let url = "postgres://app:hunter2@127.0.0.1:1/evals";
    for args in [
        vec!["eval", "dataset", "list", "--store", url],
        vec!["eval", "readiness", "--store", url],
        vec!["eval", "captures", "--store", url],
    ] {
        let r = run(&dir, &args);
        assert_ne!(r.code, 0, "{args:?}: {}", r.stdout);
        assert!(
            r.stderr.contains("cannot open the eval store"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("postgres://app:***@127.0.0.1:1/evals"),
            "{}",
            r.stderr
        );
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(!all.contains("hunter2"), "{all}");
    }
}
