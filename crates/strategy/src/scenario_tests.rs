use super::*;
use crate::source::DailyRow;

const CATALOG: &str = r#"
[[model]]
id = "a"
provider = "p"
family = "gpt-4o"
context_window = 100000
successor = "b"
[[model.prices]]
effective_from = "2025-01-01"
input = "1"
output = "2"
[[model]]
id = "b"
provider = "q"
family = "claude-4"
context_window = 100000
[[model.prices]]
effective_from = "2025-01-01"
input = "0.5"
output = "1"
"#;

fn setup() -> (History, Catalog, NaiveDate) {
    let mut c = Catalog::default();
    c.merge_toml(CATALOG, "t").unwrap();
    // One month of traffic: 1,000,000 input and 500,000 output tokens on p/a.
    // At a's prices: 1 × 1 + 0.5 × 2 = $2 a month.
    let row = DailyRow {
        day: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        workload: "w".into(),
        provider: "p".into(),
        model: "a".into(),
        team: "t".into(),
        requests: 1000,
        errors: 0,
        usage: TokenUsage {
            input: 1_000_000,
            output: 500_000,
            ..Default::default()
        },
        cost: Money::from_str("2").unwrap(),
    };
    (
        History {
            rows: vec![row],
            ..Default::default()
        },
        c,
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    )
}

fn run_with(changes: Vec<Change>) -> ScenarioResult {
    let (h, c, start) = setup();
    run(
        &h,
        &c,
        &Scenario {
            name: "t".into(),
            horizon_months: 3,
            changes,
            origins: Vec::new(),
        },
        start,
    )
}

#[test]
fn price_shock_doubles_the_affected_provider_only_from_its_date() {
    // From month 2 (2027-01-01): months cost 2, 4, 4 = 10 against a baseline of 6.
    let r = run_with(vec![Change::Price {
        provider: "p".into(),
        factor: Decimal::from(2),
        from: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
    }]);
    assert_eq!(
        (r.total_baseline.to_string(), r.total_scenario.to_string()),
        ("6".into(), "10".into())
    );
    assert_eq!(r.workloads[0].delta_pct.unwrap().to_string(), "0.6667");
    let none = run_with(vec![Change::Price {
        provider: "q".into(),
        factor: Decimal::from(2),
        from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
    }]);
    assert_eq!(none.total_delta, Money::ZERO);
}

#[test]
fn growth_compounds_monthly() {
    // 2 + 2 × 1.1 + 2 × 1.21 = 2 + 2.2 + 2.42 = 6.62
    let r = run_with(vec![Change::Growth {
        monthly: Decimal::from_str("0.1").unwrap(),
    }]);
    assert_eq!(r.total_scenario.to_string(), "6.62");
}

#[test]
fn moving_families_converts_tokens() {
    // claude/gpt-4o = 1.15: 1,150,000 in × 0.5 + 575,000 out × 1 = 0.575 + 0.575 = 1.15 a month.
    let r = run_with(vec![Change::Move {
        workload: "w".into(),
        to: "q/b".into(),
        from: None,
    }]);
    assert_eq!(r.total_scenario.to_string(), "3.45");
    assert!(
        r.assumptions.iter().any(|a| a.contains("×1.15")),
        "{:?}",
        r.assumptions
    );
}

#[test]
fn retirement_moves_traffic_to_the_successor_from_its_date() {
    // December on a (2), then January and February on b (1.15 each) = 4.3.
    let r = run_with(vec![Change::Retire {
        model: "a".into(),
        on: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        replacement: None,
    }]);
    assert_eq!(r.total_scenario.to_string(), "4.3");
}

#[test]
fn bad_files_name_the_field() {
    let errs = Scenario::from_toml("name = \"x\"\nhorizon_months = 0\n[[change]]\nkind = \"price\"\nprovider = \"p\"\nfactor = -1\nfrom = 2026-01-01\n").unwrap_err();
    let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["horizon_months", "change[0].factor (line 3)"]);
    assert!(Scenario::from_toml("name = \"x\"\n[[change]]\nkind = \"teleport\"\n").is_err());
}

#[test]
fn dates_and_numbers_parse_quoted_or_bare() {
    for text in [
        "name = \"x\"\n[[change]]\nkind = \"price\"\nprovider = \"p\"\nfactor = 2\nfrom = 2026-01-01\n",
        "name = \"x\"\n[[change]]\nkind = \"price\"\nprovider = \"p\"\nfactor = \"2.0\"\nfrom = \"2026-01-01\"\n",
        "name = \"x\"\n[[change]]\nkind = \"price\"\nprovider = \"p\"\nfactor = 2.0\nfrom = 2026-01-01\n",
    ] {
        let s = Scenario::from_toml(text).unwrap();
        assert!(
            matches!(&s.changes[0], Change::Price { factor, .. } if *factor == Decimal::from(2)),
            "{text}"
        );
    }
}

#[test]
fn every_error_in_a_scenario_file_is_reported_at_its_own_change_and_line() {
    let text = "name = \"x\"\n\
        [[change]]\nkind = \"growth\"\nmonthly = 0.1\n\
        [[change]]\nkind = \"price\"\nprovider = \"p\"\nfactor = \"abc\"\nfrom = 2027-01-01\n\
        [[change]]\nkind = \"move\"\nworkload = \"w\"\nto = \"nope\"\n\
        [[change]]\nkind = \"teleport\"\n";
    let errs = Scenario::from_toml(text).unwrap_err();
    let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "change[1] (line 5)",
            "change[2].to (line 10)",
            "change[3] (line 14)"
        ]
    );
    assert!(
        errs[0].message.contains("`abc` is not a decimal"),
        "{}",
        errs[0]
    );
    assert!(errs[2].message.contains("teleport"), "{}", errs[2]);
}

#[test]
fn unknown_providers_models_and_workloads_are_refused_with_the_closest_known_names() {
    let (h, c, today) = setup();
    let sc = Scenario {
        name: "t".into(),
        horizon_months: 1,
        changes: vec![
            Change::Price {
                provider: "pp".into(),
                factor: Decimal::TWO,
                from: today,
            },
            Change::Retire {
                model: "aa".into(),
                on: today,
                replacement: Some("q/bb".into()),
            },
            Change::Move {
                workload: "ww".into(),
                to: "q/zz".into(),
                from: None,
            },
            // Known names pass: the provider, the model as id or provider/id, the workload.
            Change::Price {
                provider: "p".into(),
                factor: Decimal::TWO,
                from: today,
            },
            Change::Retire {
                model: "p/a".into(),
                on: today,
                replacement: Some("q/b".into()),
            },
            Change::Move {
                workload: "w".into(),
                to: "q/b".into(),
                from: None,
            },
        ],
        origins: Vec::new(),
    };
    let errs = sc.check_names(&h, &c);
    let got: Vec<(&str, &str)> = errs
        .iter()
        .map(|e| {
            (
                e.path.as_str(),
                e.message.split(';').nth(1).unwrap_or("").trim(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("change[0].provider", "closest known: \"p\" or \"q\""),
            ("change[1].model", "closest known: \"a\", \"p/a\" or \"b\""),
            ("change[1].replacement", "closest known: \"q/b\" or \"p/a\""),
            ("change[2].workload", "closest known: \"w\""),
            ("change[2].to", "closest known: \"q/b\" or \"p/a\""),
        ]
    );
    assert!(errs[0].message.starts_with("unknown provider \"pp\""));
}

#[test]
fn a_retirement_named_provider_slash_model_moves_the_traffic() {
    // p/a retires at once → its traffic moves to b (×1.15 tokens at b's prices = $1.15/month).
    let r = run_with(vec![Change::Retire {
        model: "p/a".into(),
        on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        replacement: None,
    }]);
    assert_eq!(r.total_scenario.to_string(), "3.45");
}

#[test]
fn each_row_adds_up_as_printed_scenario_is_baseline_plus_delta_to_the_cent() {
    // 1,001,600 input + 500,000 output tokens a month at a's prices: 2.0016 a month, 6.0048
    // over 3 months; doubled: 12.0096. Rounded alone that prints 6.00 + 6.00 = 12.01.
    let (mut h, c, start) = setup();
    h.rows[0].usage.input = 1_001_600;
    let r = run(
        &h,
        &c,
        &Scenario {
            name: "t".into(),
            horizon_months: 3,
            changes: vec![Change::Price {
                provider: "p".into(),
                factor: Decimal::from(2),
                from: start,
            }],
            origins: Vec::new(),
        },
        start,
    );
    let w = &r.workloads[0];
    assert_eq!(
        (
            w.baseline.to_string(),
            w.delta.to_string(),
            w.scenario.to_string()
        ),
        ("6".into(), "6".into(), "12".into())
    );
    assert_eq!(r.total_delta, r.total_scenario - r.total_baseline);
    assert_eq!(r.total_delta, w.delta);
}
