//! The real `switchyard` binary against ledgers it imported itself: exit codes, messages and
//! printed figures of the strategy and catalog commands.

#[expect(dead_code, reason = "pg_schema in common serves the PostgreSQL tests")]
mod common;

use common::{Row, days_ago, ledger, run, scratch};

/// `n` consecutive days ending `end_back` days ago, one openai row a day costing `cost`.
fn days(n: i64, end_back: i64, cost: &str) -> Vec<Row<'_>> {
    (0..n)
        .map(|i| Row {
            day: days_ago(end_back + n - 1 - i),
            workload: "chat",
            provider: "openai",
            model: "gpt-4o-mini",
            input: 1000,
            output: 100,
            requests: 10,
            cost,
        })
        .collect()
}

#[test]
fn a_thirty_day_history_recommends_the_commitment_its_lookbacks_cover() {
    let dir = scratch();
    let mut rows = days(20, 10, "1000");
    rows.extend(days(10, 0, "400"));
    let db = ledger(&dir, &rows);
    let args = [
        "strategy",
        "contract",
        "--recommend",
        "--discount",
        "0.2",
        "--term",
        "12",
        "--ledger",
    ];
    let r = run(&dir, &[&args[..], &[db.to_str().unwrap()]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    // $400 covered at 20 % off = $320/day × 365 / 12 = $9,733.33 a month, saving 10 %.
    assert!(
        r.stdout
            .contains("Recommended commitment: $9,733.33 a month"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("($29,199.96 over the term, 10.0%)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("60-day lookback: not enough history"),
        "{}",
        r.stdout
    );
}

#[test]
fn too_short_or_empty_history_refuses_a_recommendation_saying_what_it_has_and_needs() {
    let dir = scratch();
    let short = ledger(&dir, &days(3, 0, "100"));
    let r = run(
        &dir,
        &[
            "strategy",
            "contract",
            "--recommend",
            "--ledger",
            short.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("covers 3 day(s)"), "{}", r.stderr);
    assert!(r.stderr.contains("at least 7"), "{}", r.stderr);

    let r = run(
        &dir,
        &[
            "strategy",
            "contract",
            "--recommend",
            "--provider",
            "opena",
            "--ledger",
            short.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("--provider \"opena\": the ledger has no traffic on that provider; closest known: \"openai\""), "{}", r.stderr);

    let dir = scratch();
    let empty = ledger(&dir, &[]);
    let r = run(
        &dir,
        &[
            "strategy",
            "contract",
            "--recommend",
            "--ledger",
            empty.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("covers 0 day(s)"), "{}", r.stderr);
}

#[test]
fn scenario_flags_with_unknown_names_exit_1_naming_the_flag_the_name_and_the_closest() {
    let dir = scratch();
    let db = ledger(&dir, &days(30, 0, "10"));
    let db = db.to_str().unwrap();
    let cases = [
        (
            ["--move", "chat=nope/model-x"],
            "unknown model \"nope/model-x\"",
        ),
        (["--retire", "ghost@2027-01-01"], "unknown model \"ghost\""),
        (
            ["--move", "NOSUCH=openai/gpt-4o"],
            "unknown workload \"NOSUCH\"",
        ),
        (
            ["--price", "nosuchprovider=2"],
            "unknown provider \"nosuchprovider\"",
        ),
    ];
    for (flag, want) in cases {
        let r = run(
            &dir,
            &["strategy", "scenario", flag[0], flag[1], "--ledger", db],
        );
        assert_eq!(r.code, 1, "{flag:?}: {}", r.stdout);
        let line = format!("{} {:?}: {want}", flag[0], flag[1]);
        assert!(r.stderr.contains(&line), "{flag:?}: {}", r.stderr);
        assert!(r.stderr.contains("closest known: \""), "{}", r.stderr);
    }
    // The closest names are real ones: a misspelt provider suggests the right one first.
    let r = run(
        &dir,
        &["strategy", "scenario", "--price", "opena=2", "--ledger", db],
    );
    assert!(
        r.stderr.contains("closest known: \"openai\""),
        "{}",
        r.stderr
    );
    // Known names still run, and a negative growth needs no `=`.
    let r = run(
        &dir,
        &[
            "strategy", "scenario", "--price", "openai=2", "--growth", "-0.1", "--ledger", db,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // `--growth -2` reaches the value check (a clear message), not clap's "unexpected argument".
    let r = run(
        &dir,
        &["strategy", "scenario", "--growth", "-2", "--ledger", db],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("--growth \"-2\": must be greater than −1"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_scenario_file_reports_every_error_at_its_own_change() {
    let dir = scratch();
    let db = ledger(&dir, &days(30, 0, "10"));
    let text = "name = \"x\"\n[[change]]\nkind = \"growth\"\nmonthly = 0.1\n\
        [[change]]\nkind = \"price\"\nprovider = \"opena\"\nfactor = 2\nfrom = 2027-01-01\n\
        [[change]]\nkind = \"price\"\nprovider = \"openai\"\nfactor = \"abc\"\nfrom = 2027-01-01\n";
    std::fs::write(dir.join("s.toml"), text).unwrap();
    let r = run(
        &dir,
        &[
            "strategy",
            "scenario",
            "--file",
            "s.toml",
            "--ledger",
            db.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    // Both problems at once, in file order: a misspelt provider, then a bad number.
    let lines: Vec<&str> = r.stderr.lines().skip(1).map(str::trim).collect();
    assert_eq!(lines.len(), 2, "{}", r.stderr);
    assert!(
        lines[0].starts_with("change[1].provider (line 5): unknown provider \"opena\""),
        "{}",
        r.stderr
    );
    assert!(
        lines[0].contains("closest known: \"openai\""),
        "{}",
        r.stderr
    );
    assert!(
        lines[1].starts_with("change[2] (line 10): `abc` is not a decimal"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.starts_with("error: s.toml has 2 problem(s)"),
        "{}",
        r.stderr
    );
}

#[test]
fn catalog_cost_prints_each_token_kind_with_its_price_the_tier_and_the_total() {
    let dir = scratch();
    // gpt-6.2-sol (2026-11-17): input 2, cached 0.10, cache write 2.50, output 10; above
    // 272,000 prompt tokens: input 4, cached 0.20, output 15. Prompt 312,000 → the tier.
    // 300,000 × 4 = 1.2; 10,000 × 0.2 = 0.002; 1,500 × 2.5 = 0.00375; 500 × 2.5 (1h at the
    // 5-minute price) = 0.00125; 1,000 × 15 = 0.015; 3,000 × 15 (reasoning as output) = 0.045.
    let args = [
        "catalog",
        "cost",
        "gpt-6.2-sol",
        "--input",
        "300000",
        "--cached",
        "10000",
        "--cache-write",
        "2000",
        "--cache-write-1h",
        "500",
        "--output",
        "1000",
        "--reasoning",
        "3000",
        "--at",
        "2026-12-01",
    ];
    let r = run(&dir, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = &r.stdout;
    assert!(out.contains("openai/gpt-6.2-sol@2026-11-17"), "{out}");
    assert!(out.contains("is above 272,000"), "{out}");
    for (kind, cost) in [
        ("input ", "$1.200000"),
        ("cached input", "$0.002000"),
        ("cache write ", "$0.003750"),
        ("cache write (1h)", "$0.001250"),
        ("output", "$0.015000"),
        ("reasoning", "$0.045000"),
        ("total", "$1.267000"),
    ] {
        let line = out.lines().find(|l| l.starts_with(kind)).unwrap_or("");
        assert!(line.contains(cost), "{kind}: {out}");
    }
    // The same as JSON, money as 6-decimal strings.
    let r = run(&dir, &[&args[..], &["--json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["total_usd"], "1.267000");
    assert_eq!(v["tier_above_input_tokens"], 272000);
    assert_eq!(v["lines"][0]["usd_per_million"], "4");
    // Below the tier, the base prices.
    let r = run(
        &dir,
        &[
            "catalog",
            "cost",
            "openai/gpt-6.2-sol",
            "--input",
            "1000",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (
            v["total_usd"].as_str(),
            v["tier_above_input_tokens"].is_null()
        ),
        (Some("0.002000"), true)
    );
}

#[test]
fn catalog_cost_of_an_unknown_model_exits_1_with_the_closest_names() {
    let dir = scratch();
    let r = run(&dir, &["catalog", "cost", "gpt-6.2-so", "--input", "5"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains(
            "no model \"gpt-6.2-so\" in the catalog; closest known: \"openai/gpt-6.2-sol\""
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn json_money_is_rounded_to_the_cent_and_per_request_figures_to_six_decimals() {
    let dir = scratch();
    // 1.29 over 100,000 requests = 0.0000129 a request: rounds to 0.000013 (truncation: 0.000012).
    let mut rows = days(1, 1, "1.29");
    rows[0].requests = 100_000;
    rows.push(Row {
        cost: "0.3333333333",
        ..days(1, 0, "0")[0].clone()
    });
    let db = ledger(&dir, &rows);
    let db = db.to_str().unwrap();
    let r = run(
        &dir,
        &[
            "strategy", "spend", "--by", "workload", "--ledger", db, "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["total_cost"], "1.62", "{v}");
    assert_eq!(v["rows"][0]["cost"], "1.62");
    // (1.29 + 0.3333333333) / 100,010 = 0.00001623…
    assert_eq!(v["rows"][0]["cost_per_request"], "0.000016");
    let r = run(
        &dir,
        &["ledger", "summary", "--by", "day", "--ledger", db, "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["savings_by_lever"]["levers"].is_array(), "{v}");
    let costs: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["cost_usd"].as_str())
        .collect();
    assert!(costs.contains(&"0.33") && costs.contains(&"1.29"), "{v}");
    // The table rounds $/request too.
    let dir2 = scratch();
    let db2 = ledger(
        &dir2,
        &days(1, 0, "1.29")
            .into_iter()
            .map(|r| Row {
                requests: 100_000,
                ..r
            })
            .collect::<Vec<_>>(),
    );
    let r = run(
        &dir2,
        &["strategy", "spend", "--ledger", db2.to_str().unwrap()],
    );
    assert!(r.stdout.contains("0.000013"), "{}", r.stdout);
}

#[test]
fn the_spend_table_cost_and_share_columns_add_up_to_the_total_and_100_percent() {
    // Three workloads at 1.004 each: rounded alone 1.00 × 3 = 3.00 against a total of 3.01,
    // and 33.3% × 3 = 99.9%.
    let dir = scratch();
    let rows: Vec<Row> = ["a", "b", "c"]
        .into_iter()
        .map(|w| Row {
            workload: w,
            ..days(1, 1, "1.004")[0].clone()
        })
        .collect();
    let db = ledger(&dir, &rows);
    let r = run(
        &dir,
        &["strategy", "spend", "--ledger", db.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (mut cents, mut tenths) = (0i64, 0i64);
    for line in r.stdout.lines().filter(|l| l.starts_with("all ")) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let money = |s: &str| {
            s.trim_start_matches('$')
                .replace('.', "")
                .parse::<i64>()
                .unwrap()
        };
        cents += money(cols[5]);
        tenths += money(cols[6].trim_end_matches('%'));
    }
    assert!(r.stdout.contains("Total $3.01 over"), "{}", r.stdout);
    assert_eq!((cents, tenths), (301, 1000), "{}", r.stdout);
}

#[test]
fn lockin_and_report_use_the_measured_cost_of_a_proven_alternative_and_call_a_dearer_one_a_fallback()
 {
    let dir = scratch();
    let db = ledger(&dir, &days(30, 0, "0.20"));
    // A replay proved gpt-6-luna on the chat workload's traffic, measured 177 % dearer; the
    // catalog estimates it cheaper than gpt-4o-mini.
    let store = switchyard_evalstore::open(&dir.join("ledger-eval.db")).unwrap();
    store
        .save_run(&switchyard_evalstore::RunRecord {
            id: "run-1".into(),
            created: chrono::Utc::now(),
            dataset_id: "ds".into(),
            workload: Some("chat".into()),
            candidate: "openai/gpt-6-luna".into(),
            baseline: "captured".into(),
            verdict: "PASS".into(),
            report: serde_json::json!({
                "summary": {"n": 60, "mean_diff": 0.0, "ci_low": 0.0, "ci_high": 0.0},
                "deltas": {"cost_delta": 1.77},
            }),
        })
        .unwrap();
    drop(store);
    let db = db.to_str().unwrap();
    let r = run(&dir, &["strategy", "lockin", "--ledger", db]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("openai/gpt-6-luna +177% (measured on replay of ds vs captured"),
        "{}",
        r.stdout
    );
    let r = run(&dir, &["strategy", "report", "--ledger", db]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("can move to"), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "costs 177% more (measured on replay of ds vs captured): a fallback option, not a saving"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn output_cut_short_by_a_closed_pipe_exits_quietly_without_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // Another test thread's fork can hold the pipe's read end open for a moment, and the
    // output fits the pipe's buffer, so one run may write it all and exit 0; a panic is never
    // acceptable, and one of a few runs must see the closed pipe.
    let mut codes = Vec::new();
    for _ in 0..5 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["catalog", "list"])
            .env("SWITCHYARD_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the first line is written, as `| head -0` would.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!stderr.contains("panicked"), "{stderr}");
        codes.push(status.code());
        if status.code() == Some(141) {
            return;
        }
        assert_eq!(status.code(), Some(0), "{stderr}");
    }
    panic!("never saw the closed pipe: exit codes {codes:?}");
}

#[test]
fn ledger_summary_shows_the_prompt_caching_section_priced_with_the_catalog() {
    let dir = scratch();
    let csv = format!(
        "ts,workload,provider,model,input_tokens,cached_input_tokens,cache_write_tokens,output_tokens,requests,cost_usd\n{}T12:00:00Z,review,anthropic,claude-sonnet-4-5,1000000,2000000,1000000,1000,100,10\n{}T12:00:00Z,chat,openai,gpt-4o-mini,1000,0,0,100,10,1\n",
        days_ago(1),
        days_ago(1)
    );
    std::fs::write(dir.join("usage.csv"), csv).unwrap();
    let db = dir.join("ledger.db");
    let db = db.to_str().unwrap();
    let r = run(&dir, &["ledger", "import", "usage.csv", "--ledger", db]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = run(&dir, &["ledger", "summary", "--ledger", db]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let section = r
        .stdout
        .split("\nprompt caching\n")
        .nth(1)
        .unwrap_or_default();
    let review = section
        .lines()
        .find(|l| l.starts_with("review"))
        .unwrap_or("");
    // Sonnet 4.5: 2M reads at $3 - $0.30 saved $5.40; 1M writes at $0.75 above input.
    assert!(
        review.contains("50.0%") && review.contains("$5.40") && review.contains("$0.75"),
        "{section}"
    );
    assert!(
        !section.contains("\nchat"),
        "nothing cached or missed: {section}"
    );
    let r = run(&dir, &["ledger", "summary", "--ledger", db, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["prompt_caching"]["lines"][0]["workload"], "review");
    assert_eq!(v["prompt_caching"]["saved_usd"], "5.40");
    assert!(v["rows"].as_array().is_some_and(|rows| rows.len() == 2));
}

/// The money in a table cell such as `$0.1641`.
fn dollars(cell: &str) -> f64 {
    cell.trim_start_matches('$').parse().unwrap_or(0.0)
}

#[test]
fn the_demo_shows_a_positive_saving_for_every_lever_in_its_table_and_the_ledger() {
    let dir = scratch();
    let r = run(
        &dir,
        &[
            "demo",
            "--quiet",
            "--requests",
            "200",
            "--batch-lines",
            "20",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let table = r
        .stdout
        .split("Savings by lever")
        .nth(1)
        .unwrap_or_default();
    for lever in [
        "cache (exact)",
        "semantic cache",
        "prompt caching",
        "cascade",
        "batch",
        "routing",
    ] {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("{lever}  ")))
            .unwrap_or_default();
        let saved = row.split_whitespace().find(|c| c.starts_with('$'));
        assert!(saved.is_some_and(|s| dollars(s) > 0.0), "{lever}: {table}");
    }
    assert!(
        r.stdout
            .contains("completed with 20 lines answered, 0 failed"),
        "{}",
        r.stdout
    );
    // Still on the table, priced: extraction repeats itself on a route without a cache, and
    // the summarisation workload's Anthropic batch lines ran at list price.
    let table = r
        .stdout
        .split("Still on the table")
        .nth(1)
        .unwrap_or_default();
    for line in [
        "exact duplicates, uncached",
        "batchable at the batch discount",
        "TOTAL",
    ] {
        let row = table
            .lines()
            .find(|l| l.starts_with(line))
            .unwrap_or_default();
        let priced = row.split_whitespace().find(|c| c.starts_with('$'));
        assert!(priced.is_some_and(|s| dollars(s) > 0.0), "{line}: {table}");
    }
    assert!(table.contains("extract "), "{table}");
    // `ledger summary` reads the same levers from the ledger the demo left.
    let r = run(
        &dir,
        &[
            "ledger",
            "summary",
            "--ledger",
            "switchyard.db",
            "--since",
            "0d",
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let levers = v["savings_by_lever"]["levers"].as_array().unwrap();
    // (Routing's few cents' fractions print as "0.00" here: its rows are checked below.)
    for lever in [
        "cache",
        "semantic_cache",
        "prompt_caching",
        "cascade",
        "batch",
    ] {
        let l = levers.iter().find(|l| l["lever"] == lever).unwrap();
        assert_eq!(l["measured"], true, "{l}");
        let saved: f64 = l["saved_usd"].as_str().unwrap().parse().unwrap();
        assert!(saved > 0.0, "{lever}: {l}");
    }
    let batch = levers.iter().find(|l| l["lever"] == "batch").unwrap();
    // Lines go through a provider batch: OpenAI's Batch API for `summarize-nightly` (16),
    // Anthropic's Message Batches for `summarize` (4). The simulated Claude fails 3% of
    // requests; such a line falls back to the pipeline at list price and saves nothing.
    let discounted = batch["requests"].as_u64().unwrap_or(0);
    assert!((17..=20).contains(&discounted), "{batch}");
    let routing = levers.iter().find(|l| l["lever"] == "routing").unwrap();
    // The `tag` route's lowest-cost picks: one request in 40 of the mix.
    assert_eq!(routing["measured"], true, "{routing}");
    assert_eq!(routing["requests"], 5, "{routing}");
    let t = &v["still_on_the_table"];
    let routes = t["duplicate_routes"].as_array().unwrap();
    let extract = routes.iter().find(|d| d["route"] == "extract").unwrap();
    // 20 extraction requests of 10 distinct mails: up to 10 uncached duplicates (fewer if
    // the simulator failed one).
    let dups = extract["duplicates"].as_u64().unwrap_or(0);
    assert!((1..=10).contains(&dups), "{extract}");
    assert_eq!(extract["requests"], 20, "{extract}");
    let share: f64 = t["duplicate_share"].as_str().unwrap().parse().unwrap();
    assert!(share > 0.0 && share < 1.0, "{t}");
    let duplicates: u64 = routes.iter().filter_map(|d| d["duplicates"].as_u64()).sum();
    assert_eq!(t["duplicates"].as_u64(), Some(duplicates), "{t}");
    let batchable = t["batchable"].as_array().unwrap();
    let summaries = batchable
        .iter()
        .find(|b| b["workload"] == "summarization")
        .unwrap();
    assert_eq!(summaries["why"], "sent via /v1/batches", "{summaries}");
}
