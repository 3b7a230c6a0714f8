//! `switchyard eval run` (and the report it prints: table, Markdown, JSON) and `eval
//! readiness` over the run it saved give the same output on a PostgreSQL eval store as on a
//! SQLite one for the same dataset, candidate and baseline, replayed against one simulator.
//! Latencies, which each replay measures anew, are masked.
//!
//! Uses the PostgreSQL at 127.0.0.1:5432 (database `test`; `SWITCHYARD_TEST_PG` overrides),
//! in a schema of its own dropped at the end; skips with a message when there is none, except
//! under `CI`, where that fails.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

#[expect(dead_code, reason = "the ledger builders in common serve cli.rs")]
mod common;

use common::{run, scratch};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use switchyard_ledger::ScratchSchema;

fn schema() -> Option<ScratchSchema> {
    common::pg_schema("sy_cli_evalrun")
}

/// `switchyard sim` on a free port, killed when dropped.
struct Sim(Child, String);

impl Sim {
    fn start(dir: &Path) -> Sim {
        let cfg = dir.join("sim.toml");
        std::fs::write(
            &cfg,
            "seed = 3\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n",
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["sim", "--listen", "127.0.0.1:0", "--config"])
            .arg(&cfg)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("the simulator said {line:?}"))
            .to_owned();
        Sim(child, url)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const ITEMS: &str = r#"{"id": "refund-1", "system": "You are a support agent.", "prompt": "Can I return shoes after 30 days?", "expected": "no"}
{"id": "refund-2", "prompt": "Où est ma commande ?", "expected": "livrée"}
{"id": "balance-1", "prompt": "What is my balance?", "expected": "balance"}
"#;

fn eval_ok(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args);
    assert_eq!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
    r.stdout
}

/// The text without its latency lines (each replay measures its own).
fn unlatency(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains("latency"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A JSON report without the fields that hold latencies.
fn strip(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => {
            o.retain(|k, _| !k.contains("latency"));
            o.values_mut().for_each(strip);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

#[test]
fn eval_run_and_its_reports_print_the_same_on_postgres_as_on_sqlite() {
    let Some(schema) = schema() else { return };
    let dir = scratch();
    let sim = Sim::start(&dir);
    std::fs::write(dir.join("items.jsonl"), ITEMS).unwrap();
    let config = format!(
        "[ledger]\npath = \"ledger.db\"\n[providers.sim]\nkind = \"openai-compatible\"\nbase_url = \"{}/v1\"\nprice_provider = \"openai\"\n[[routes]]\nname = \"chat\"\nworkload = \"support\"\ntargets = [{{ provider = \"sim\", model = \"gpt-4o\" }}]\n",
        sim.1
    );
    std::fs::write(dir.join("sy.toml"), config).unwrap();
    let sqlite = dir.join("eval.db").display().to_string();
    let mut outputs = Vec::new();
    for store in [schema.url(), sqlite.as_str()] {
        let s = ["--store", store];
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
            &[&import[..], &["--workload", "support"], &s].concat(),
        );
        let replay = |format: &str| {
            let args = [
                "eval",
                "run",
                "--config",
                "sy.toml",
                "--dataset",
                "support",
                "--candidate",
                "sim/gpt-4o-mini",
                "--baseline",
                "sim/gpt-4o",
                "--resamples",
                "500",
                "--scorer",
                r#"{"type":"contains-any","values":["return","order","balance"]}"#,
                "--format",
                format,
            ];
            eval_ok(&dir, &[&args[..], &s].concat())
        };
        let table = unlatency(&replay("table"));
        let markdown = unlatency(&replay("markdown"));
        let mut json: serde_json::Value = serde_json::from_str(&replay("json")).unwrap();
        strip(&mut json);
        let ready = eval_ok(&dir, &[&["eval", "readiness"][..], &s].concat());
        let ready_json = eval_ok(&dir, &[&["eval", "readiness", "--json"][..], &s].concat());
        outputs.push((table, markdown, json, ready, ready_json));
    }
    let (pg, lite) = (&outputs[0], &outputs[1]);
    assert_eq!(pg.0, lite.0, "eval run (table)");
    assert_eq!(pg.1, lite.1, "eval run --format markdown");
    assert_eq!(pg.2, lite.2, "eval run --format json");
    assert_eq!(pg.3, lite.3, "eval readiness");
    assert_eq!(pg.4, lite.4, "eval readiness --json");
    // What was compared is a real report over the three items, saved and read back.
    assert!(
        pg.0.contains("items (paired / all)       3 / 3"),
        "{}",
        pg.0
    );
    assert!(pg.1.contains("| balance-1 |"), "{}", pg.1);
    assert_eq!(pg.2["summary"]["n"], 3, "{}", pg.2);
    assert!(
        pg.3.contains("replay of support@v1 vs sim/gpt-4o"),
        "{}",
        pg.3
    );
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}
