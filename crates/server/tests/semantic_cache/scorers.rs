//! Shadow mode's comparison with the route's scorers (and exact equality without them):
//! what `/v1/status` counts, under which scorer, and what a judge call leaves in the ledger.

use super::*;

/// The table's questions; any other text (an answer) on one fixed direction, so every two
/// answers are at cosine 1 (the embedding scorer's positive case).
struct Lenient(Arc<Table>);

impl Embed for Lenient {
    fn dimensions(&self) -> usize {
        3
    }
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            Ok(texts
                .iter()
                .map(|t| {
                    let known = self.0.0.get(t.as_str()).cloned();
                    known.unwrap_or_else(|| vec![0.0, 0.0, 1.0])
                })
                .collect())
        })
    }
}

/// Shadow routes with scorers (appended to GATEWAY, after its five routes).
const SCORED: &str = r#"
[[routes]]
name = "judge"
targets = [{ provider = "oai", model = "gpt-4o" }]
[[routes]]
name = "regexed"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[[routes.scorers]]
type = "regex"
pattern = "."
[routes.cache]
scope = "global"
[routes.cache.semantic]
embedder = "embed"
mode = "shadow"
[[routes]]
name = "strict"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[[routes.scorers]]
type = "contains"
values = ["no answer ever says this"]
[routes.cache]
scope = "global"
[routes.cache.semantic]
embedder = "embed"
mode = "shadow"
[[routes]]
name = "embedded"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[[routes.scorers]]
type = "embedding"
threshold = 0.9
[routes.cache]
scope = "global"
[routes.cache.semantic]
embedder = "embed"
mode = "shadow"
[[routes]]
name = "judged"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[[routes.scorers]]
type = "judge"
route = "judge"
rubric = "The answer addresses the question."
threshold = 0.5
[routes.cache]
scope = "global"
[routes.cache.semantic]
embedder = "embed"
mode = "shadow"
"#;

/// Stores RESET's answer on `route`, asks RESET_AGAIN (a shadow hit) and waits until the
/// comparison is counted; returns the route's semantic status.
async fn shadow_compared(h: &Harness, route: &str) -> Value {
    assert_eq!(cache(&ask(h, route, RESET, &[]).await), "miss");
    stored(h, route, RESET, &[]).await;
    assert_eq!(cache(&ask(h, route, RESET_AGAIN, &[]).await), "miss");
    let url = format!("{}/v1/status", h.base);
    for _ in 0..200 {
        let s = h.get(&url).await.json()["cache"]["semantic"][route].clone();
        let by = s["shadow_by_scorer"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if by.len() == 1 {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the shadow comparison on {route} was never counted");
}

#[tokio::test]
async fn shadow_mode_without_scorers_says_it_compared_by_exact_equality() {
    let h = start(SIM, GATEWAY).await;
    h.gateway.set_semantic_embedder("shadowed", table());
    let s = shadow_compared(&h, "shadowed").await;
    assert_eq!(s["shadow_scorer"], "exact-equality");
    assert_eq!(s["shadow_by_scorer"][0]["scorer"], "exact-equality");
}

// Each test has its own gateway: routes with the same targets and scope share exact entries.
#[tokio::test]
async fn shadow_mode_counts_a_would_be_answer_that_passes_the_routes_scorer_as_agreed() {
    let h = start(SIM, &format!("{GATEWAY}{SCORED}")).await;
    h.gateway.set_semantic_embedder("regexed", table());
    let passed = shadow_compared(&h, "regexed").await;
    assert_eq!(passed["shadow_scorer"], "regex");
    assert_eq!(passed["shadow_by_scorer"][0]["agreed"], 1, "{passed}");
    assert_eq!(passed["shadow_agreed"], 1);
}

#[tokio::test]
async fn shadow_mode_counts_a_would_be_answer_that_fails_the_routes_scorer_as_disagreed() {
    let h = start(SIM, &format!("{GATEWAY}{SCORED}")).await;
    h.gateway.set_semantic_embedder("strict", table());
    let failed = shadow_compared(&h, "strict").await;
    assert_eq!(failed["shadow_scorer"], "contains");
    assert_eq!(failed["shadow_by_scorer"][0]["disagreed"], 1, "{failed}");
    assert_eq!(failed["shadow_agreed"], 0);
}

#[tokio::test]
async fn an_embedding_scorer_without_a_route_embeds_both_answers_with_the_cache_embedder() {
    let h = start(SIM, &format!("{GATEWAY}{SCORED}")).await;
    h.gateway
        .set_semantic_embedder("embedded", Arc::new(Lenient(table())));
    let s = shadow_compared(&h, "embedded").await;
    assert_eq!(s["shadow_scorer"], "embedding");
    assert_eq!(s["shadow_by_scorer"][0]["agreed"], 1, "{s}");
}

#[tokio::test]
async fn a_judge_whose_verdict_cannot_be_read_leaves_the_comparison_unscored_and_is_recorded_as_shadow_spend()
 {
    let h = start(SIM, &format!("{GATEWAY}{SCORED}")).await;
    h.gateway.set_semantic_embedder("judged", table());
    // The simulator answers prose, not the judge's JSON verdict.
    let s = shadow_compared(&h, "judged").await;
    assert_eq!(s["shadow_scorer"], "judge");
    assert_eq!(s["shadow_by_scorer"][0]["unscored"], 1, "{s}");
    assert_eq!(s["shadow_agreed"], 0);
    assert_eq!(s["shadow_disagreed"], 0);
    let records = h.finish().await;
    let judged: Vec<_> = records.iter().filter(|r| r.route == "judge").collect();
    assert_eq!(judged.len(), 1, "one rubric call");
    assert!(judged[0].shadow, "the judge call is evaluation spend");
    assert!(
        judged[0]
            .tags
            .iter()
            .any(|(k, v)| k == "switchyard" && v == "semantic-shadow")
    );
}

#[tokio::test]
async fn a_bad_scorer_on_a_semantic_shadow_route_is_refused_naming_its_path() {
    let text = format!("{GATEWAY}{SCORED}")
        .replace("SIM_URL", "http://127.0.0.1:9")
        .replace("pattern = \".\"", "pattern = \"(\"");
    let config = switchyard_gateway::Config::from_toml(&text).unwrap();
    let env = |name: &str| (name == "SIM_KEY").then(|| "sk-test".to_owned());
    let err = switchyard_gateway::Gateway::check(&config, &env).unwrap_err();
    assert!(err.to_string().contains("routes[6].scorers[0]"), "{err}");
}
