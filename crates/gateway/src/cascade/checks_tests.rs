use super::*;
use switchyard_eval::ToolCall;

fn policy(toml_text: &str) -> Result<CascadePolicy, Vec<(String, String)>> {
    let raw: RawCascade = toml::from_str(toml_text).unwrap();
    let mut problems = Vec::new();
    let policy = validate("routes[0].cascade", Some(raw), true, &mut problems);
    if problems.is_empty() {
        Ok(policy.unwrap())
    } else {
        Err(problems)
    }
}

#[test]
fn a_json_check_fails_a_cut_short_answer_and_passes_a_whole_one() {
    let p = policy("[[checks]]\ntype = \"json-valid\"").unwrap();
    assert!(!p.config_order);
    let broken = p.failure(&Output::text(r#"{"label": "spam""#)).unwrap();
    assert!(broken.starts_with("json-valid"), "{broken}");
    assert_eq!(p.failure(&Output::text(r#"{"label": "spam"}"#)), None);
}

#[test]
fn the_first_failing_check_is_the_one_reported() {
    let p = policy(
        "order = \"config\"\n[[checks]]\ntype = \"min-length\"\nchars = 5\n[[checks]]\ntype = \"regex\"\npattern = \"^yes|no$\"",
    )
    .unwrap();
    assert!(p.config_order);
    let short = p.failure(&Output::text("ok")).unwrap();
    assert!(short.contains("2 characters, fewer than 5"), "{short}");
    let no_match = p.failure(&Output::text("maybe")).unwrap();
    assert!(no_match.starts_with("regex"), "{no_match}");
    assert_eq!(p.failure(&Output::text("yes, it is")), None);
}

#[test]
fn tool_calls_are_valid_only_when_present_and_their_arguments_are_objects() {
    let p = policy("[[checks]]\ntype = \"tool-calls-valid\"").unwrap();
    assert!(
        p.failure(&Output::text("no call"))
            .unwrap()
            .contains("calls no tool")
    );
    let good = Output {
        text: String::new(),
        tool_calls: vec![ToolCall::new("lookup", serde_json::json!("{\"id\": 1}"))],
    };
    assert_eq!(p.failure(&good), None);
    let bad = Output {
        text: String::new(),
        tool_calls: vec![ToolCall::new("lookup", serde_json::json!("{\"id\": "))],
    };
    assert!(p.failure(&bad).unwrap().contains("`lookup`"));
}

#[test]
fn config_errors_name_the_field_that_is_wrong() {
    let problems = policy(
        "order = \"price\"\n[[checks]]\ntype = \"embedding\"\n[[checks]]\ntype = \"contains\"\n[[checks]]\ntype = \"min-length\"",
    )
    .unwrap_err();
    let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "routes[0].cascade.order",
            "routes[0].cascade.checks[0]",
            "routes[0].cascade.checks[1]",
            "routes[0].cascade.checks[2]"
        ]
    );
    assert!(
        problems[1].1.contains("not available on cascade routes"),
        "{}",
        problems[1].1
    );
    assert!(problems[2].1.contains("its own value"), "{}", problems[2].1);
    assert!(problems[3].1.contains("chars"), "{}", problems[3].1);
}

#[test]
fn a_cascade_without_checks_and_checks_without_a_cascade_are_refused() {
    let problems = policy("order = \"cost\"").unwrap_err();
    assert_eq!(problems[0].0, "routes[0].cascade.checks");
    let mut problems = Vec::new();
    assert!(validate("routes[1].cascade", None, true, &mut problems).is_some());
    assert_eq!(problems[0].0, "routes[1].cascade.checks");
    let raw: RawCascade = toml::from_str("[[checks]]\ntype = \"json-valid\"").unwrap();
    let mut problems = Vec::new();
    assert!(validate("routes[1].cascade", Some(raw), false, &mut problems).is_none());
    assert!(problems[0].1.contains("strategy = \"cascade\""));
}

#[test]
fn a_judge_check_takes_its_route_rubric_and_threshold_and_leaves_the_free_checks_alone() {
    let p = policy(
        "[[checks]]\ntype = \"json-valid\"\n[[checks]]\ntype = \"judge\"\nroute = \"judge\"\nrubric = \"Labels the ticket.\"\nthreshold = 0.7",
    )
    .unwrap();
    let judges: Vec<_> = p.judges().collect();
    assert_eq!(judges.len(), 1);
    assert_eq!(
        (judges[0].route.as_str(), judges[0].threshold, judges[0].at),
        ("judge", 0.7, 1)
    );
    // The judge is not a free check: an answer that passes json-valid passes `failure`.
    assert_eq!(p.failure(&Output::text("{}")), None);
    assert!(p.failure(&Output::text("{")).is_some());
}

#[test]
fn a_judge_check_with_a_bad_threshold_route_rubric_or_pairwise_names_that_field() {
    let judge = |rest: &str| {
        let text = format!("[[checks]]\ntype = \"judge\"\n{rest}");
        policy(&text).unwrap_err()
    };
    let cases = [
        (
            "route = \"j\"\nrubric = \"r\"\nthreshold = 1.5",
            "threshold",
            "[0, 1]",
        ),
        (
            "route = \"j\"\nrubric = \"r\"\nthreshold = -0.1",
            "threshold",
            "[0, 1]",
        ),
        ("route = \"j\"\nrubric = \"r\"", "threshold", "threshold"),
        (
            "route = \" \"\nrubric = \"r\"\nthreshold = 0.5",
            "route",
            "route",
        ),
        (
            "route = \"j\"\nrubric = \"\"\nthreshold = 0.5",
            "rubric",
            "rubric",
        ),
        (
            "route = \"j\"\nrubric = \"r\"\nthreshold = 0.5\npairwise = true",
            "pairwise",
            "one answer",
        ),
    ];
    for (rest, field, says) in cases {
        let problems = judge(rest);
        assert_eq!(problems.len(), 1, "{rest}: {problems:?}");
        assert_eq!(
            problems[0].0,
            format!("routes[0].cascade.checks[0].{field}")
        );
        assert!(problems[0].1.contains(says), "{rest}: {}", problems[0].1);
    }
}
