//! Guard rules, one category at a time: each pins a near-miss that must fail and a paraphrase
//! that must pass.

use super::*;

fn failed(a: &str, b: &str) -> Vec<&'static str> {
    check(&Facts::of(a), &Facts::of(b))
        .iter()
        .map(Guard::name)
        .collect()
}

fn agrees(a: &str, b: &str) {
    assert_eq!(
        failed(a, b),
        Vec::<&str>::new(),
        "{a:?} vs {b:?}: {:?} / {:?}",
        Facts::of(a),
        Facts::of(b)
    );
}

fn fails(a: &str, b: &str, guard: &str) {
    let f = failed(a, b);
    assert!(
        f.contains(&guard),
        "{a:?} vs {b:?} failed {f:?}, expected {guard}: {:?} / {:?}",
        Facts::of(a),
        Facts::of(b)
    );
}

#[test]
fn negation_must_agree() {
    fails(
        "Which foods are safe for dogs?",
        "Which foods are not safe for dogs?",
        "negation",
    );
    fails(
        "Why does my laptop charge?",
        "Why doesn't my laptop charge?",
        "negation",
    );
    fails("Recipes with gluten", "Recipes without gluten", "negation");
    agrees(
        "Why won't my phone turn on?",
        "Why does my phone not turn on?",
    );
}

#[test]
fn opposite_poles_of_one_polarity_group_fail() {
    fails(
        "How do I enable dark mode?",
        "How do I disable dark mode?",
        "polarity",
    );
    fails(
        "How to turn on notifications",
        "How to turn off notifications",
        "polarity",
    );
    fails(
        "Best way to increase my credit score",
        "Best way to decrease my credit score",
        "polarity",
    );
    fails(
        "How do I upload a file to the server?",
        "How do I download a file from the server?",
        "polarity",
    );
    fails(
        "What are the benefits of fasting?",
        "What are the risks of fasting?",
        "polarity",
    );
    agrees("How do I enable dark mode?", "How can I turn on dark mode?");
    agrees("How do I enable dark mode?", "dark mode: how do I get it?");
}

#[test]
fn numbers_and_their_units_must_agree() {
    fails("What is 15% of 80?", "What is 15% of 90?", "numbers");
    fails("Convert 5 km to miles", "Convert 5 m to miles", "numbers");
    fails("Top 5 sci-fi books", "Top ten sci-fi books", "numbers");
    fails("Is 3 bigger than 5?", "Is 5 bigger than 3?", "numbers");
    agrees("What is 15% of 80?", "Calculate 15 percent of 80");
    agrees("Convert 5 kilometres to miles", "How many miles is 5 km?");
    agrees(
        "A budget of $2,000 for a laptop",
        "a laptop for 2000 dollars",
    );
    agrees("Top 10 sci-fi books", "ten best sci-fi books");
    agrees("a trip of two hundred miles", "a 200 mile trip");
    agrees("Which one is cheaper?", "Which is cheaper?");
}

#[test]
fn dates_must_agree() {
    fails(
        "Events in Paris on March 3",
        "Events in Paris on April 3",
        "dates",
    );
    fails("Weather in Rome tomorrow", "Weather in Rome today", "dates");
    fails("Meetings next week", "Meetings last week", "dates");
    fails(
        "Is the office open on Monday?",
        "Is the office open on Sunday?",
        "dates",
    );
    fails("Deadline is 2025-01-31", "Deadline is 2025-02-28", "dates");
    agrees(
        "Weather in Rome on Friday",
        "What's the forecast for Rome on Friday?",
    );
    agrees("May I ask about refunds?", "Can I ask about refunds?");
}

#[test]
fn named_entities_must_agree_in_order() {
    fails(
        "What is the capital of France?",
        "What is the capital of Spain?",
        "entities",
    );
    fails(
        "what is the capital of france",
        "what is the capital of spain",
        "entities",
    );
    fails(
        "Flights from Paris to London",
        "Flights from London to Paris",
        "entities",
    );
    fails(
        "How do I install Docker on Ubuntu?",
        "How do I install Docker on Windows?",
        "entities",
    );
    fails(
        "Who founded Acme Corp?",
        "Who founded Globex Corp?",
        "entities",
    );
    fails(
        "Convert Celsius to Fahrenheit",
        "Convert Fahrenheit to Celsius",
        "entities",
    );
    agrees(
        "What is the capital of France?",
        "Which city is France's capital?",
    );
    agrees(
        "Tell me about New York",
        "What should I know about New York?",
    );
}

#[test]
fn quoted_strings_must_agree() {
    fails(
        "What does the error \"connection refused\" mean?",
        "What does the error \"permission denied\" mean?",
        "quoted",
    );
    fails(
        "Translate 'good morning' into French",
        "Translate 'good night' into French",
        "quoted",
    );
    agrees("Meaning of \"carpe diem\"", "What does “carpe diem” mean?");
}

#[test]
fn language_must_agree_when_both_are_known() {
    fails(
        "How do I reset my password?",
        "Comment réinitialiser mon mot de passe ?",
        "language",
    );
    fails(
        "What is the capital of France?",
        "¿Cuál es la capital de Francia?",
        "language",
    );
    fails(
        "How do I reset my password?",
        "Wie setze ich mein Passwort zurück?",
        "language",
    );
    fails(
        "What is the capital of France?",
        "Какая столица Франции?",
        "language",
    );
    agrees("How do I reset my password?", "password reset steps");
}

#[test]
fn guard_sets_report_every_failed_guard() {
    let f = check(
        &Facts::of("Is 3 more than Paris?"),
        &Facts::of("Is 4 not more than Rome?"),
    );
    assert!(
        f.contains(Guard::Numbers) && f.contains(Guard::Entities) && f.contains(Guard::Negation)
    );
    assert!(!f.contains(Guard::Quoted));
    assert_eq!(f.to_string(), "negation,numbers,entities");
    assert!(check(&Facts::of("hello"), &Facts::of("hello")).is_empty());
}
