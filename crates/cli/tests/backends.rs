//! Same records, same output: a SQLite file and a PostgreSQL schema filled by `ledger import`
//! from one JSONL file, then every `ledger` and `strategy` subcommand that reads a ledger run
//! against both; stdout, stderr and the exit code must match once the ledger's location is
//! masked. Skips (saying so) without a PostgreSQL at 127.0.0.1:5432, except under `CI`.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

#[expect(
    dead_code,
    reason = "the shared harness has helpers this file does not use"
)]
mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{run, scratch};
use std::path::Path;
use std::str::FromStr;
use switchyard_ledger::{
    Attempt, AttemptOutcome, CACHE_EXACT, CACHE_SEMANTIC, CascadeMark, Fingerprint, PromptPrefix,
    Record, RecordKind, ScratchSchema,
};
use switchyard_primitives::{Money, TokenUsage};

fn usd(s: &str) -> Money {
    Money::from_str(s).unwrap()
}

/// Noon `back` days ago, plus `minutes`.
fn ago(back: i64, minutes: i64) -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    let noon = (today - Duration::days(back))
        .and_hms_opt(12, 0, 0)
        .unwrap();
    Utc.from_utc_datetime(&noon) + Duration::minutes(minutes)
}

struct Ask<'a> {
    id: String,
    workload: &'a str,
    route: &'a str,
    provider: &'a str,
    model: &'a str,
    at: DateTime<Utc>,
    cost: &'a str,
}

fn record(a: Ask<'_>) -> Record {
    Record {
        request_id: a.id,
        ts: a.at,
        kind: RecordKind::Chat,
        workload: Some(a.workload.into()),
        tags: vec![("env".into(), "prod".into())],
        key_id: Some(format!("key_{}", a.workload)),
        team: Some(
            if a.workload == "support" {
                "cx"
            } else {
                "platform"
            }
            .into(),
        ),
        route: a.route.into(),
        provider: Some(a.provider.into()),
        model: Some(a.model.into()),
        attempts: vec![Attempt {
            provider: a.provider.into(),
            model: a.model.into(),
            outcome: AttemptOutcome::Ok,
            status: Some(200),
            latency_ms: 300,
            error: None,
        }],
        status: 200,
        error_class: None,
        streamed: false,
        shadow: false,
        features: "tools".into(),
        usage: TokenUsage {
            input: 1_200,
            cached_input: 0,
            cache_write: 0,
            cache_write_1h: 0,
            output: 300,
            reasoning: 0,
        },
        cost_usd: Some(usd(a.cost)),
        price_version: None,
        latency_ms: 310.5,
        ttft_ms: Some(120.25),
        overhead_us: 45,
        usage_estimated: false,
        request_count: 1,
        source: "gateway".into(),
        prefix: None,
        cascade: None,
        cache: None,
        saved_usd: None,
        batch: false,
        fingerprint: None,
        routing_baseline_usd: None,
    }
}

/// Forty days of mixed traffic: three workloads on three models, with every lever's marks
/// (cache hits, batch lines, a cascade, routed requests, duplicates, repeated prefixes),
/// errors and shadow traffic.
fn history() -> Vec<Record> {
    let mut out = Vec::new();
    for back in 0..40 {
        for i in 0..4 {
            let n = back * 10 + i;
            let mut r = record(Ask {
                id: format!("s{n}"),
                workload: "support",
                route: "chat",
                provider: "openai",
                model: "gpt-4o-mini",
                at: ago(back, i * 7),
                cost: "0.000360",
            });
            r.fingerprint = Some(Fingerprint((n % 3) as u128));
            r.prefix = Some(PromptPrefix {
                hash: 7,
                tokens: 1_100,
            });
            out.push(r);
        }
        let mut review = record(Ask {
            id: format!("r{back}"),
            workload: "review",
            route: "review",
            provider: "anthropic",
            model: "claude-sonnet-4-5",
            at: ago(back, 30),
            cost: "0.0081",
        });
        review.usage.cached_input = 2_000;
        review.usage.cache_write = 500;
        out.push(review);
        let mut routed = record(Ask {
            id: format!("x{back}"),
            workload: "extract",
            route: "extract",
            provider: "openai",
            model: "gpt-4o-mini",
            at: ago(back, 40),
            cost: "0.00036",
        });
        routed.routing_baseline_usd = Some(usd("0.006"));
        out.push(routed);
    }
    let mut hit = record(Ask {
        id: "hit".into(),
        workload: "support",
        route: "chat",
        provider: "openai",
        model: "gpt-4o-mini",
        at: ago(2, 50),
        cost: "0",
    });
    hit.cache = Some(CACHE_EXACT.into());
    hit.saved_usd = Some(usd("0.00036"));
    let mut near = hit.clone();
    near.request_id = "near".into();
    near.cache = Some(CACHE_SEMANTIC.into());
    let mut line = record(Ask {
        id: "line".into(),
        workload: "nightly",
        route: "summaries",
        provider: "openai",
        model: "gpt-4o",
        at: ago(3, 0),
        cost: "0.003",
    });
    line.batch = true;
    line.saved_usd = Some(usd("0.003"));
    let mut tier = record(Ask {
        id: "tier".into(),
        workload: "classify",
        route: "triage",
        provider: "openai",
        model: "gpt-4o-mini",
        at: ago(4, 0),
        cost: "0.00036",
    });
    tier.cascade = Some(CascadeMark {
        tier: 1,
        baseline_usd: Some(usd("0.006")),
        judged_usd: None,
    });
    let mut failed = record(Ask {
        id: "failed".into(),
        workload: "support",
        route: "chat",
        provider: "openai",
        model: "gpt-4o-mini",
        at: ago(5, 0),
        cost: "0",
    });
    failed.status = 502;
    failed.error_class = Some("upstream_error".into());
    failed.cost_usd = None;
    let mut shadow = record(Ask {
        id: "shadow".into(),
        workload: "support",
        route: "chat",
        provider: "openai",
        model: "gpt-4o",
        at: ago(1, 0),
        cost: "0.006",
    });
    shadow.shadow = true;
    out.extend([hit, near, line, tier, failed, shadow]);
    out
}

/// Every subcommand that reads the ledger (crates/cli/src/main.rs: `ledger` and `strategy`),
/// with `LEDGER` standing for the location and `DIR` for a per-backend scratch directory.
const COMMANDS: &[&[&str]] = &[
    &["ledger", "summary", "--ledger", "LEDGER"],
    &["ledger", "summary", "--ledger", "LEDGER", "--json"],
    &["ledger", "summary", "--ledger", "LEDGER", "--by", "model"],
    &[
        "ledger", "summary", "--ledger", "LEDGER", "--by", "day", "--since", "10d",
    ],
    &[
        "ledger",
        "summary",
        "--ledger",
        "LEDGER",
        "--by",
        "team",
        "--include-shadow",
    ],
    &[
        "ledger", "summary", "--ledger", "LEDGER", "--by", "key", "--json",
    ],
    &["ledger", "export", "--ledger", "LEDGER", "--format", "csv"],
    &[
        "ledger", "export", "--ledger", "LEDGER", "--format", "jsonl",
    ],
    &[
        "ledger",
        "import",
        "history.jsonl",
        "--ledger",
        "LEDGER",
        "--dry-run",
    ],
    &["strategy", "spend", "--ledger", "LEDGER"],
    &[
        "strategy", "spend", "--ledger", "LEDGER", "--json", "--by", "model", "--period", "month",
    ],
    &[
        "strategy",
        "scenario",
        "--ledger",
        "LEDGER",
        "--move",
        "support=openai/gpt-4o",
    ],
    &[
        "strategy",
        "contract",
        "--ledger",
        "LEDGER",
        "--recommend",
        "--discount",
        "0.2",
        "--term",
        "12",
    ],
    &["strategy", "lockin", "--ledger", "LEDGER"],
    &["strategy", "lockin", "--ledger", "LEDGER", "--json"],
    &["strategy", "deprecations", "--ledger", "LEDGER", "--json"],
    &[
        "strategy",
        "report",
        "--ledger",
        "LEDGER",
        "--format",
        "json",
        "--snapshot",
        "DIR/s.json",
    ],
    &[
        "strategy",
        "report",
        "--ledger",
        "LEDGER",
        "--format",
        "md",
        "--snapshot",
        "DIR/s.json",
    ],
];

/// One command's output on one backend, the location and scratch directory masked.
fn output(dir: &Path, work: &Path, ledger: &str, args: &[&str]) -> (i32, String, String) {
    let work_text = work.display().to_string();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("LEDGER", ledger).replace("DIR", &work_text))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run(dir, &args);
    let redacted = ledger.replace("%3D", "=");
    let mask = |s: &str| {
        s.replace(ledger, "<ledger>")
            .replace(&redacted, "<ledger>")
            .replace(&work_text, "<dir>")
    };
    (r.code, mask(&r.stdout), mask(&r.stderr))
}

#[test]
fn every_ledger_and_strategy_command_prints_the_same_on_sqlite_and_postgres() {
    let admin = std::env::var("SWITCHYARD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = match ScratchSchema::create(&admin, "sy_cli") {
        Ok(s) => s,
        Err(e) => {
            assert!(std::env::var_os("CI").is_none(), "PostgreSQL in CI: {e}");
            eprintln!("skipping: no PostgreSQL at {admin}: {e}");
            return;
        }
    };
    let dir = scratch();
    let mut jsonl = String::new();
    for r in history() {
        jsonl.push_str(&serde_json::to_string(&r).unwrap());
        jsonl.push('\n');
    }
    std::fs::write(dir.join("history.jsonl"), jsonl).unwrap();
    let sqlite = dir.join("ledger.db").display().to_string();
    let backends = [(sqlite.as_str(), "lite"), (schema.url(), "pg")];
    for (ledger, _) in backends {
        let r = run(
            &dir,
            &["ledger", "import", "history.jsonl", "--ledger", ledger],
        );
        assert_eq!(r.code, 0, "import into {ledger}: {}{}", r.stdout, r.stderr);
    }
    for args in COMMANDS {
        let outs: Vec<(i32, String, String)> = backends
            .iter()
            .map(|(ledger, name)| {
                let work = dir.join(name);
                std::fs::create_dir_all(&work).unwrap();
                output(&dir, &work, ledger, args)
            })
            .collect();
        assert_eq!(outs[0].0, 0, "{args:?} on SQLite: {}", outs[0].2);
        assert!(!outs[0].1.trim().is_empty(), "{args:?} printed nothing");
        assert_eq!(
            outs[0], outs[1],
            "{args:?}: SQLite (left) and PostgreSQL (right) differ"
        );
    }
    // The savings ledger is there on both (no note that PostgreSQL leaves it out).
    let (_, summary, _) = output(&dir, &dir, schema.url(), COMMANDS[0]);
    assert!(summary.contains("Savings by lever"), "{summary}");
    assert!(summary.contains("routing"), "{summary}");
    assert!(!summary.contains("not measured"), "{summary}");
}
