//! Contract files: the documented example parses; bad files report every error with its path.

use super::test_support::{dec, usd};
use super::*;

const EXAMPLE: &str = include_str!("../../examples/contract.toml");

fn errors(toml: &str) -> Vec<(String, String)> {
    let e = parse_offers(toml).unwrap_err();
    e.0.into_iter().map(|e| (e.path, e.message)).collect()
}

fn paths(toml: &str) -> Vec<String> {
    errors(toml).into_iter().map(|(p, _)| p).collect()
}

#[test]
fn the_documented_example_parses_into_every_kind_of_term() {
    let offers = parse_offers(EXAMPLE).unwrap();
    assert_eq!(offers.len(), 3);
    let a = &offers[0];
    let c = a.commit.as_ref().unwrap();
    assert_eq!(
        (c.amount, c.discount, c.overage_discount),
        (usd("10000"), dec("0.2"), dec("0.15"))
    );
    assert_eq!((c.period, c.kind), (Period::Month, CommitKind::Minimum));
    assert_eq!(
        c.rollover,
        Some(Rollover {
            fraction: dec("0.5"),
            cap: Some(usd("2000"))
        })
    );
    assert_eq!(a.exit_fee, Some(ExitFee::FractionOfRemaining(dec("0.5"))));
    assert_eq!(a.triggers[1].above, usd("50000"));
    let b = &offers[1];
    let bc = b.commit.as_ref().unwrap();
    assert_eq!((bc.period, bc.kind), (Period::Year, CommitKind::Drawdown));
    assert_eq!(
        bc.overage_discount,
        dec("0.1"),
        "overage defaults to the commit discount"
    );
    assert_eq!(b.tiers.len(), 2);
    assert_eq!(b.mix.factor(), dec("0.8625")); // 1 − 0.3·0.5 + 0.05·0.25
    assert_eq!(b.exit_fee, Some(ExitFee::Fixed(usd("30000"))));
    let r = offers[2].reserved.as_ref().unwrap();
    assert_eq!(r.tokens_per_hour(), dec("4800000")); // 2 × 40,000 × 60
}

#[test]
fn a_minimal_offer_takes_the_defaults() {
    let offers = parse_offers(
        r#"[[offers]]
name = "x"
provider = "*"
start = "2026-03-01"
term_months = 6
commit = { amount_usd = "5000.50", discount = "0.1" }
"#,
    )
    .unwrap();
    let c = offers[0].commit.as_ref().unwrap();
    assert_eq!((c.period, c.kind), (Period::Month, CommitKind::Minimum));
    assert_eq!(c.amount, usd("5000.50"));
    assert_eq!(c.escalation_per_year, dec("0"));
    assert!(offers[0].exit_fee.is_none());
}

#[test]
fn bad_files_report_every_error_at_once_each_naming_its_field() {
    let toml = r#"
[[offers]]
name = "a"
provider = "openai"
start = 2026-01-15
term_months = 12
comit = 3
rollover_cap_usd = 100
batch_share = 0.5
commit = { amount_usd = 0, discount = 1.5, period = "week" }
exit_fee = { fixed_usd = 1, fraction_of_remaining = 0.5 }

[[offers]]
provider = "x"
start = "January"
term_months = 0
overage_rate = 0.1
tiers = [{ above_usd = 5000, discount = 0.1 }, { above_usd = 5000, discount = 0.2 }]
triggers = [{ action = "call" }]
reserved = { units = 1, hourly_usd_per_unit = "cheap", tokens_per_minute_per_unit = 10 }
"#;
    let got = paths(toml);
    for want in [
        "offers[0].start",
        "offers[0].comit",
        "offers[0].rollover_cap_usd",
        "offers[0].batch_discount",
        "offers[0].commit.amount_usd",
        "offers[0].commit.discount",
        "offers[0].commit.period",
        "offers[0].exit_fee",
        "offers[1].name",
        "offers[1].start",
        "offers[1].term_months",
        "offers[1].overage_rate",
        "offers[1].tiers[1].above_usd",
        "offers[1].triggers[0].when_monthly_spend_usd_above",
        "offers[1].reserved.hourly_usd_per_unit",
    ] {
        assert!(
            got.contains(&want.to_string()),
            "missing {want} in {got:#?}"
        );
    }
    assert_eq!(got.len(), 15, "{got:#?}");
}

#[test]
fn error_messages_say_how_to_fix() {
    let all = errors(
        r#"[[offers]]
name = "a"
provider = "p"
start = 2026-01-01
term_months = 3
commit = { amount_usd = 10, discount = 1 }
"#,
    );
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, "offers[0].commit.discount");
    assert_eq!(all[0].1, "is 1; it must be at least 0 and below 1");
    let rendered = parse_offers("offers = 3").unwrap_err().to_string();
    assert_eq!(
        rendered,
        "1 contract error(s):\n  - offers: must be an array of tables, not integer"
    );
}

#[test]
fn duplicate_names_unknown_sections_and_syntax_errors_are_reported() {
    let dup = r#"
[[offers]]
name = "same"
provider = "p"
start = 2026-01-01
term_months = 1
[[offers]]
name = "same"
provider = "p"
start = 2026-01-01
term_months = 1
[extra]
"#;
    assert_eq!(paths(dup), vec!["extra", "offers[1].name"]);
    assert_eq!(paths("offers = [[["), vec!["(file)"]);
    assert_eq!(paths(""), vec!["offers"]);
}

#[test]
fn a_fraction_exit_fee_needs_a_commitment() {
    let got = errors(
        r#"[[offers]]
name = "payg"
provider = "p"
start = 2026-01-01
term_months = 2
exit_fee = { fraction_of_remaining = 0.5 }
priority_premium = 0.2
"#,
    );
    let got: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        got,
        vec![
            "offers[0].exit_fee.fraction_of_remaining",
            "offers[0].priority_share"
        ]
    );
}
