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
    common::pg_schema("sy_cli_eval")
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

/// The same captures, shadow results and replay run in both stores, written through the
/// store's own API: every `eval` command that reads them prints the same on both backends
/// (creation times, which each store stamps itself, masked).
#[test]
fn eval_commands_over_captures_shadows_and_runs_print_the_same_on_both_backends() {
    use chrono::{Duration, SubsecRound, Utc};
    use serde_json::json;
    use switchyard_evalstore::{Capture, Entry, RunRecord, ShadowResult};
    let Some(schema) = schema() else { return };
    let dir = scratch();
    let sqlite = dir.join("eval.db").display().to_string();
    let now = Utc::now().trunc_subsecs(3);
    let capture = |i: i64| Capture {
        id: format!("req_cap_{i:03}"),
        ts: now - Duration::minutes(90 - i),
        workload: Some(if i % 3 == 0 { "billing" } else { "support" }.into()),
        route: "chat".into(),
        provider: Some("openai".into()),
        model: Some(if i % 2 == 0 { "gpt-4o" } else { "gpt-4o-mini" }.into()),
        key_id: Some("key_1".into()),
        team: Some("cx".into()),
        tags: vec![("lang".into(), "en".into())],
        dialect: "openai".into(),
        request: json!({"model": "chat", "messages": [{"role": "user", "content": format!("question {i} — ünï")}]}),
        output_text: format!("answer {i}"),
        tool_calls: json!([]),
        cost_usd: format!("0.00{i:02}1").parse().ok(),
        latency_ms: 100.0 + i as f64,
        input_tokens: 10 + i as u64,
        output_tokens: 5,
    };
    let shadow = |i: i64| ShadowResult {
        ts: now - Duration::minutes(60 - i),
        workload: Some("support".into()),
        route: "chat".into(),
        primary_model: "gpt-4o".into(),
        candidate: if i % 2 == 0 { "sim/cheap" } else { "sim/other" }.into(),
        primary_score: 1.0,
        candidate_score: if i % 4 == 0 { 0.0 } else { 1.0 },
        primary_cost_usd: Some(0.002),
        candidate_cost_usd: Some(0.0005),
        primary_latency_ms: 200.0,
        candidate_latency_ms: 150.0 + i as f64,
        detail: "exact".into(),
        request_id: Some(format!("req_shadow_{i:03}")),
    };
    let mut outputs = Vec::new();
    for store in [schema.url(), sqlite.as_str()] {
        let mut s = switchyard_evalstore::open(std::path::Path::new(store)).unwrap();
        let mut batch: Vec<Entry> = (0..30).map(|i| Entry::Capture(capture(i))).collect();
        batch.extend((0..40).map(|i| Entry::Shadow(shadow(i))));
        assert_eq!(s.append(&batch).unwrap(), 70);
        s.save_run(&RunRecord {
            id: "run_1".into(),
            created: now - Duration::minutes(5),
            dataset_id: "support@v1".into(),
            workload: Some("support".into()),
            candidate: "sim/cheap".into(),
            baseline: "openai/gpt-4o".into(),
            verdict: "PASS".into(),
            report: json!({"summary": {"n": 40, "mean_diff": 0.01, "ci_low": -0.01, "ci_high": 0.03, "candidate_cost_usd": 0.01, "baseline_cost_usd": 0.05}}),
        })
        .unwrap();
        drop(s);
        let on = |args: &[&str]| eval_ok(&dir, &[args, &["--store", store]].concat());
        let create = on(&[
            "eval",
            "dataset",
            "create",
            "--workload",
            "support",
            "--name",
            "fromcap",
            "--stratify-by",
            "model",
            "--limit",
            "12",
        ]);
        let mut show: serde_json::Value =
            serde_json::from_str(&on(&["eval", "dataset", "show", "fromcap", "--json"])).unwrap();
        if let Some(o) = show.get_mut("dataset").and_then(|d| d.as_object_mut()) {
            o.remove("created");
        }
        if let Some(o) = show.as_object_mut() {
            o.remove("created");
        }
        let list = on(&["eval", "dataset", "list"]);
        let list: Vec<String> = list
            .lines()
            .map(|l| l.replace(&now.format("%Y-%m-%d").to_string(), "<day>"))
            .collect();
        outputs.push((
            create,
            show,
            list,
            on(&["eval", "captures", "--workload", "support", "--limit", "7"]),
            on(&["eval", "captures"]),
            on(&["eval", "readiness"]),
            on(&["eval", "readiness", "--json"]),
        ));
    }
    let (pg, lite) = (&outputs[0], &outputs[1]);
    assert_eq!(pg.0, lite.0, "dataset create");
    assert_eq!(pg.1, lite.1, "dataset show");
    assert_eq!(pg.2, lite.2, "dataset list");
    assert_eq!(pg.3, lite.3, "captures --workload");
    assert_eq!(pg.4, lite.4, "captures");
    assert_eq!(pg.5, lite.5, "readiness");
    assert_eq!(pg.6, lite.6, "readiness --json");
    assert!(pg.3.contains("answer 29"), "{}", pg.3);
    assert!(
        pg.6.contains("sim/cheap") && pg.6.contains("sim/other"),
        "{}",
        pg.6
    );
    assert!(pg.1.to_string().contains("question 13 — ünï"), "{}", pg.1);
    let _ = std::fs::remove_dir_all(&dir);
}
