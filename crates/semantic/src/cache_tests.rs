//! The cache end to end with the deterministic embedder and an injected clock.

use super::*;
use crate::embed::HashEmbedder;
use std::sync::Mutex;

struct ManualClock(Mutex<DateTime<Utc>>);

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

impl ManualClock {
    fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap();
        *t += TimeDelta::from_std(by).unwrap();
    }
}

fn cache(min_similarity: f32) -> (SemanticCache, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock(Mutex::new(
        DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
    )));
    let config = Config {
        min_similarity,
        ..Config::default()
    };
    let cache = SemanticCache::with_clock(config, Arc::new(HashEmbedder::new(256)), clock.clone());
    (cache, clock)
}

const HOUR: Duration = Duration::from_secs(3600);
const GLOBAL: Scope = Scope::Global;

fn req(text: &str) -> Request<'_> {
    Request {
        text,
        context: ContextHash([7; 32]),
        scope: &GLOBAL,
    }
}

fn stored(n: u8) -> Stored {
    Stored {
        key: Key([n; 32]),
        ttl: HOUR,
    }
}

#[tokio::test]
async fn a_near_duplicate_with_the_same_facts_is_served_with_its_similarity() {
    let (cache, _) = cache(0.8);
    assert!(
        cache
            .insert(&req("How do I reset my password?"), stored(1))
            .await
            .unwrap()
    );
    let got = cache
        .lookup(&req("how do I  reset my password"))
        .await
        .unwrap();
    let hit = got.hit.expect("a hit");
    assert_eq!(hit.key, Key([1; 32]));
    assert!(hit.similarity >= 0.8 && hit.failed.is_empty());
    assert_eq!(got.miss(), None);
}

#[tokio::test]
async fn a_guard_failure_is_a_miss_that_names_the_guard_and_keeps_the_candidate_for_shadow_logs() {
    let (cache, _) = cache(0.5);
    cache
        .insert(&req("What is the capital of France?"), stored(1))
        .await
        .unwrap();
    let got = cache
        .lookup(&req("What is the capital of Spain?"))
        .await
        .unwrap();
    assert_eq!(got.hit, None);
    let nearest = got.nearest().expect("the candidate is reported");
    assert_eq!(nearest.key, Key([1; 32]));
    assert!(nearest.failed.contains(crate::guard::Guard::Entities));
    assert!(
        matches!(got.miss(), Some(Miss::Guards(g)) if g.contains(crate::guard::Guard::Entities))
    );
}

#[tokio::test]
async fn a_farther_candidate_that_passes_the_guards_is_served_over_a_nearer_one_that_fails() {
    let (cache, _) = cache(0.3);
    cache
        .insert(&req("Is the office open on Sunday?"), stored(1))
        .await
        .unwrap();
    cache
        .insert(&req("Tell me if the office opens Monday"), stored(2))
        .await
        .unwrap();
    let got = cache
        .lookup(&req("Is the office open on Monday?"))
        .await
        .unwrap();
    assert_eq!(got.nearest().map(|c| c.key), Some(Key([1; 32])));
    assert_eq!(got.hit.map(|c| c.key), Some(Key([2; 32])));
}

#[tokio::test]
async fn below_threshold_and_empty_are_told_apart() {
    let (cache, _) = cache(0.99);
    let empty = cache.lookup(&req("anything")).await.unwrap();
    assert_eq!(empty.miss(), Some(Miss::Empty));
    cache
        .insert(&req("How do I bake bread?"), stored(1))
        .await
        .unwrap();
    let far = cache.lookup(&req("How do I bake a cake?")).await.unwrap();
    assert_eq!(far.miss(), Some(Miss::BelowThreshold));
    assert_eq!(far.nearest().map(|c| c.key), Some(Key([1; 32])));
}

#[tokio::test]
async fn entries_expire_with_their_ttl() {
    let (cache, clock) = cache(0.8);
    cache
        .insert(&req("How do I bake bread?"), stored(1))
        .await
        .unwrap();
    clock.advance(HOUR - Duration::from_secs(1));
    assert!(
        cache
            .lookup(&req("How do I bake bread?"))
            .await
            .unwrap()
            .hit
            .is_some()
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        cache
            .lookup(&req("How do I bake bread?"))
            .await
            .unwrap()
            .miss(),
        Some(Miss::Empty)
    );
    assert_eq!(cache.purge_expired(), 1);
    assert_eq!(cache.state().entries, 0);
}

#[tokio::test]
async fn texts_over_the_length_limit_are_neither_stored_nor_looked_up() {
    let (cache, _) = cache(0.8);
    let long = "word ".repeat(400);
    assert!(!cache.insert(&req(&long), stored(1)).await.unwrap());
    assert_eq!(
        cache.lookup(&req(&long)).await.unwrap().miss(),
        Some(Miss::TooLong)
    );
    assert_eq!(cache.state().entries, 0);
}

#[tokio::test]
async fn forget_drops_an_entry_whose_answer_is_gone() {
    let (cache, _) = cache(0.8);
    cache
        .insert(&req("How do I bake bread?"), stored(1))
        .await
        .unwrap();
    assert!(cache.forget(&req("How do I bake bread?"), &Key([1; 32])));
    assert!(
        cache
            .lookup(&req("How do I bake bread?"))
            .await
            .unwrap()
            .hit
            .is_none()
    );
}

struct WrongShape;

impl Embed for WrongShape {
    fn dimensions(&self) -> usize {
        8
    }
    fn embed<'a>(&'a self, _: &'a [String]) -> crate::embed::EmbedFuture<'a> {
        Box::pin(async { Ok(vec![vec![1.0; 3]]) })
    }
}

#[tokio::test]
async fn an_embedder_returning_the_wrong_dimension_is_an_error_not_a_hit() {
    let cache = SemanticCache::new(Config::default(), Arc::new(WrongShape));
    let err = cache.lookup(&req("hello")).await.unwrap_err();
    assert!(matches!(err, EmbedError::Shape { .. }), "{err}");
}
