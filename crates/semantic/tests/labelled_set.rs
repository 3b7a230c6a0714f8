//! The evaluation pipeline over the checked-in labelled set, with the deterministic hash
//! embedder (no model): the file parses, is big and varied enough, and the guards alone stop
//! the near-misses they are built for while letting the paraphrases through.

use std::collections::BTreeMap;
use switchyard_semantic::HashEmbedder;
use switchyard_semantic::eval::{self, Pair};

#[expect(
    clippy::unwrap_used,
    reason = "a malformed pair file should fail the test"
)]
fn pairs() -> Vec<Pair> {
    let text = include_str!("../data/pairs.jsonl");
    eval::parse_pairs(text).unwrap()
}

#[test]
fn the_labelled_set_has_at_least_a_thousand_pairs_in_every_category() {
    let pairs = pairs();
    assert!(pairs.len() >= 1000, "{}", pairs.len());
    let mut by_category: BTreeMap<(&str, bool), usize> = BTreeMap::new();
    for p in &pairs {
        *by_category.entry((p.category.as_str(), p.hit)).or_default() += 1;
    }
    for category in [
        "negation",
        "polarity",
        "entity",
        "entity-order",
        "number",
        "unit",
        "date",
        "quoted",
        "language",
        "intent",
    ] {
        assert!(
            by_category.get(&(category, false)).copied().unwrap_or(0) >= 40,
            "{category}: {by_category:?}"
        );
    }
    for category in ["paraphrase", "paraphrase-facts", "surface"] {
        assert!(
            by_category.get(&(category, true)).copied().unwrap_or(0) >= 100,
            "{category}: {by_category:?}"
        );
    }
    let negatives = pairs.iter().filter(|p| !p.hit).count();
    // Enough negatives that a 0-false-hit result has an upper 95% bound under 1%.
    assert!(eval::wilson(0, negatives).high < 0.01, "{negatives}");
}

#[tokio::test]
async fn the_evaluation_runs_end_to_end_with_a_fake_embedder() {
    let pairs = pairs();
    let scored = eval::score(&pairs, &HashEmbedder::new(384)).await.unwrap();
    assert_eq!(scored.len(), pairs.len());
    let thresholds: Vec<f32> = (0..=20).map(|t| t as f32 / 20.0).collect();
    let rows = eval::sweep(&scored, &thresholds, true);
    // Recall falls (weakly) as the threshold rises; at 0 every guard-passing pair is served.
    assert!(rows.windows(2).all(|w| w[0].recall.k >= w[1].recall.k));
    let table = eval::sweep_table(&rows);
    assert!(table.lines().count() == rows.len() + 2, "{table}");
    let cats = eval::per_category(&scored, 0.0);
    assert!(cats.iter().any(|c| c.category == "negation" && !c.hit));
    assert!(eval::category_table(&cats).contains("| negation | miss"));
}

/// With the threshold at 0 only the guards decide: they must stop nearly every near-miss of the
/// fact categories and let nearly every paraphrase through. (The exact shares with the real
/// model are in docs/caching.md; these floors pin the rules against regressions.)
#[tokio::test]
async fn guards_alone_stop_the_fact_near_misses_and_pass_the_paraphrases() {
    let pairs = pairs();
    let scored = eval::score(&pairs, &HashEmbedder::new(64)).await.unwrap();
    let cats = eval::per_category(&scored, -1.0);
    let served = |name: &str, hit: bool| {
        cats.iter()
            .find(|c| c.category == name && c.hit == hit)
            .map(|c| c.served.point)
            .unwrap_or(f64::NAN)
    };
    for category in [
        "negation",
        "polarity",
        "entity",
        "entity-order",
        "number",
        "unit",
        "date",
        "quoted",
        "language",
    ] {
        let share = served(category, false);
        // Entities typed as common lower-case nouns ("is grapes safe for dogs") are not
        // recognised (no gazetteer entry, no capital): that part is left to the similarity.
        let floor = if category == "entity" { 0.10 } else { 0.05 };
        assert!(
            share <= floor,
            "{category}: {:.1}% of near-misses pass the guards",
            share * 100.0
        );
    }
    for category in ["paraphrase", "paraphrase-facts", "surface"] {
        let share = served(category, true);
        assert!(
            share >= 0.85,
            "{category}: only {:.1}% of paraphrases pass the guards",
            share * 100.0
        );
    }
}
