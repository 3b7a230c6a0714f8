use super::*;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn exact_matches_only_identical_text_by_default() {
    assert!(exact("Paris", "Paris", TextMatch::default()).passed);
    assert!(!exact(" Paris\n", "Paris", TextMatch::default()).passed);
    assert!(!exact("paris", "Paris", TextMatch::default()).passed);
    assert_eq!(exact("Lyon", "Paris", TextMatch::default()).value, 0.0);
}

#[test]
fn exact_can_trim_and_ignore_case() {
    let how = TextMatch {
        trim: true,
        case_insensitive: true,
    };
    assert!(exact("  PARIS\n", "paris", how).passed);
    assert!(!exact("  PARIS!\n", "paris", how).passed);
}

#[test]
fn contains_all_needs_every_needle_and_reports_the_missing_ones() {
    let needles = strings(&["alpha", "beta"]);
    assert!(contains_all("alpha and beta", &needles, false).passed);
    let s = contains_all("alpha only", &needles, false);
    assert!(!s.passed);
    assert_eq!(s.value, 0.5);
    assert!(s.detail.contains("beta"));
    assert!(contains_all("ALPHA BETA", &needles, true).passed);
    assert!(!contains_all("ALPHA BETA", &needles, false).passed);
}

#[test]
fn contains_any_needs_one_needle() {
    let needles = strings(&["yes", "correct"]);
    assert!(contains_any("that is correct", &needles, false).passed);
    assert!(!contains_any("that is wrong", &needles, false).passed);
    assert!(contains_any("YES", &needles, true).passed);
}

#[test]
fn regex_matches_anywhere_unless_anchored() {
    let re = Regex::new(r"\b\d{4}-\d{2}-\d{2}\b").unwrap();
    assert!(regex_match("due on 2026-11-27.", &re).passed);
    assert!(!regex_match("due tomorrow", &re).passed);
    let anchored = Regex::new(r"^(yes|no)$").unwrap();
    assert!(!regex_match("yes, sure", &anchored).passed);
}

#[test]
fn first_number_reads_signs_separators_decimals_and_exponents() {
    assert_eq!(first_number("The answer is 42."), Some(42.0));
    assert_eq!(first_number("about -3.5 degrees"), Some(-3.5));
    assert_eq!(first_number("total: 1,234,567.89 USD"), Some(1_234_567.89));
    assert_eq!(first_number("c = 3e8 m/s"), Some(3e8));
    assert_eq!(first_number("no digits here"), None);
}

#[test]
fn numeric_compares_the_first_number_within_tolerance() {
    let none = Tolerance::default();
    assert!(numeric("It is 42", 42.0, none).passed);
    assert!(!numeric("It is 42.5", 42.0, none).passed);
    let abs = Tolerance {
        abs: Some(0.5),
        rel: None,
    };
    assert!(numeric("It is 42.5", 42.0, abs).passed);
    assert!(!numeric("It is 43", 42.0, abs).passed);
    let rel = Tolerance {
        abs: None,
        rel: Some(0.01),
    };
    assert!(numeric("1005", 1000.0, rel).passed);
    assert!(!numeric("1011", 1000.0, rel).passed);
    assert!(!numeric("no idea", 1000.0, rel).passed);
}
