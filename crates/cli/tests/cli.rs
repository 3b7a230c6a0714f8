//! The real `switchyard` binary against ledgers it imported itself: exit codes, messages and
//! printed figures of the strategy and catalog commands.

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
