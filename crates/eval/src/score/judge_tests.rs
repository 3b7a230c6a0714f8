use super::*;

fn spec(threshold: Option<f64>) -> JudgeSpec {
    JudgeSpec {
        route: "judge".into(),
        rubric: "Is it polite?".into(),
        threshold,
        pairwise: false,
    }
}

fn v(winner: Winner) -> JudgeVerdict {
    JudgeVerdict {
        winner,
        reason: String::new(),
    }
}

#[test]
fn a_rubric_without_a_threshold_is_refused() {
    let e = spec(None).validate().unwrap_err();
    assert!(
        e.to_string()
            .contains("a rubric needs an explicit threshold")
    );
    assert_eq!(spec(Some(0.7)).validate(), Ok(0.7));
    assert_eq!(
        spec(Some(1.5)).validate(),
        Err(JudgeSpecError::ThresholdRange)
    );
    let mut no_route = spec(Some(0.5));
    no_route.route = " ".into();
    assert_eq!(no_route.validate(), Err(JudgeSpecError::MissingRoute));
}

#[test]
fn the_pairwise_prompt_holds_everything_and_asks_for_json() {
    let p = judge_prompt("Be concise", "What is 2+2?", "4", "Four, because...");
    for part in [
        "Be concise",
        "What is 2+2?",
        "<answer_a>\n4\n",
        "Four, because",
    ] {
        assert!(p.contains(part), "{part}");
    }
    assert!(p.contains(r#""winner": "A" | "B" | "tie""#));
    assert!(rubric_prompt("r", "q", "a").contains(r#"{"score""#));
}

#[test]
fn verdicts_parse_from_plain_fenced_or_wrapped_json() {
    let plain = parse_verdict(r#"{"winner": "A", "reason": "shorter"}"#).unwrap();
    assert_eq!(plain.winner, Winner::A);
    assert_eq!(plain.reason, "shorter");
    let fenced = parse_verdict("```json\n{\"winner\": \"tie\"}\n```").unwrap();
    assert_eq!(fenced.winner, Winner::Tie);
    let wrapped = parse_verdict("My verdict: {\"winner\": \"b\", \"reason\": \"x\"}.").unwrap();
    assert_eq!(wrapped.winner, Winner::B);
}

#[test]
fn malformed_verdicts_are_errors() {
    assert!(matches!(
        parse_verdict("A is better"),
        Err(VerdictError::NoJson(_))
    ));
    assert!(matches!(
        parse_verdict(r#"{"winner": "C"}"#),
        Err(VerdictError::BadWinner(_))
    ));
    assert!(matches!(
        parse_verdict(r#"{"reason": "none"}"#),
        Err(VerdictError::BadWinner(_))
    ));
}

#[test]
fn rubric_scores_must_be_in_range() {
    assert_eq!(parse_rubric_score(r#"{"score": 0.8}"#).unwrap().score, 0.8);
    assert!(parse_rubric_score(r#"{"score": 8}"#).is_err());
    assert!(parse_rubric_score(r#"{"score": "high"}"#).is_err());
}

#[test]
fn swapped_judgements_count_only_when_both_orders_agree() {
    assert_eq!(combine_swapped(&v(Winner::A), &v(Winner::B)), 1.0);
    assert_eq!(combine_swapped(&v(Winner::B), &v(Winner::A)), 0.0);
    assert_eq!(combine_swapped(&v(Winner::Tie), &v(Winner::Tie)), 0.5);
    // Always preferring the first position is bias, not preference.
    assert_eq!(combine_swapped(&v(Winner::A), &v(Winner::A)), 0.5);
    assert_eq!(combine_swapped(&v(Winner::B), &v(Winner::B)), 0.5);
    assert_eq!(combine_swapped(&v(Winner::A), &v(Winner::Tie)), 0.5);
}
