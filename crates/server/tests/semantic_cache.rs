//! The semantic cache through the gateway, against the simulated providers: a paraphrase is
//! served from the exact store with `hit-semantic`, its similarity, a `semantic` ledger record
//! and no token budget; a near miss that fails a guard goes upstream; scopes isolate; shadow
//! mode calls upstream and counts; a failing embedder never fails a request; a real
//! embeddings route is called in-process; configuration errors name their fields.
//!
//! The sim's embeddings are hashes of the text (not meaningful for paraphrases), so most tests
//! inject an embedder whose vectors they choose; one goes through the sim's embeddings route.

mod common;
#[path = "semantic_cache/reload.rs"]
mod reload;
#[path = "semantic_cache/scorers.rs"]
mod scorers;

use common::{Harness, MASTER, start, start_with};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_semantic::{Embed, EmbedError, EmbedFuture};

const SIM: &str = "seed = 3\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.oai]
kind = "openai-compatible"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
price_provider = "openai"
[[routes]]
name = "embed"
targets = [{ provider = "oai", model = "text-embedding-3-small" }]
[[routes]]
name = "support"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[routes.cache]
scope = "global"
[routes.cache.semantic]
embedder = "embed"
[[routes]]
name = "by-team"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[routes.cache]
scope = "team"
[routes.cache.semantic]
embedder = "embed"
[[routes]]
name = "shadowed"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[routes.cache]
scope = "global"
[routes.cache.semantic]
embedder = "embed"
mode = "shadow"
[[routes]]
name = "real"
targets = [{ provider = "oai", model = "gpt-4o-mini" }]
[routes.cache]
scope = "global"
[routes.cache.semantic]
embedder = "embed"
min_similarity = 0.95
"#;

const RESET: &str = "How do I reset my password?";
const RESET_AGAIN: &str = "How can I reset my password?";
const SHARE_200: &str = "What is 15% of 200?";
const SHARE_300: &str = "What is 15% of 300?";

/// Vectors chosen by the test: the paraphrase sits at cosine 0.96 from the original, the
/// other number at 0.99 (close enough to pass any threshold; only the number guard stops it).
struct Table(HashMap<&'static str, Vec<f32>>);

fn table() -> Arc<Table> {
    Arc::new(Table(HashMap::from([
        (RESET, vec![1.0, 0.0, 0.0]),
        (RESET_AGAIN, vec![0.96, 0.28, 0.0]),
        (SHARE_200, vec![0.0, 1.0, 0.0]),
        (SHARE_300, vec![0.0, 0.99, 0.141]),
    ])))
}

impl Embed for Table {
    fn dimensions(&self) -> usize {
        3
    }
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            texts
                .iter()
                .map(|t| {
                    self.0
                        .get(t.as_str())
                        .cloned()
                        .ok_or_else(|| EmbedError::Failed(format!("no vector for {t:?}")))
                })
                .collect()
        })
    }
}

/// An embedder that is down.
struct Down;

impl Embed for Down {
    fn dimensions(&self) -> usize {
        3
    }
    fn embed<'a>(&'a self, _: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async { Err(EmbedError::Failed("connection refused".into())) })
    }
}

fn chat(route: &str, text: &str) -> Value {
    json!({"model": route, "temperature": 0, "max_tokens": 50,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]})
}

async fn ask(h: &Harness, route: &str, text: &str, headers: &[(&str, &str)]) -> common::Answer {
    let body = chat(route, text).to_string().into_bytes();
    let a = h.post_with("/v1/chat/completions", body, headers).await;
    assert_eq!(a.status, 200, "{}", a.text());
    a
}

fn cache(a: &common::Answer) -> String {
    a.header("x-switchyard-cache").unwrap_or_default()
}

/// The miss's answer is written in the background: waits until the exact store has it.
async fn stored(h: &Harness, route: &str, text: &str, headers: &[(&str, &str)]) {
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let probe = chat(route, text).to_string().into_bytes();
        let a = h.post_with("/v1/chat/completions", probe, headers).await;
        if cache(&a) == "hit" {
            return;
        }
    }
    panic!("the answer to {text:?} was never stored");
}

#[tokio::test]
async fn a_paraphrase_is_served_from_the_stored_answer_marked_semantic_with_its_saving_and_no_budget()
 {
    let h = start(SIM, GATEWAY).await;
    h.gateway.set_semantic_embedder("support", table());
    let spec = switchyard_governance::KeySpec {
        tpm: Some(100_000),
        budgets: vec![switchyard_governance::Budget {
            period: switchyard_governance::Period::Day,
            limit_usd: "10".parse().unwrap(),
            hard: true,
        }],
        ..Default::default()
    };
    let (info, secret) = h.gateway.create_key(spec).unwrap();
    let auth = format!("Bearer {secret}");
    let hdr = [("authorization", auth.as_str())];
    let first = ask(&h, "support", RESET, &hdr).await;
    assert_eq!(cache(&first), "miss");
    stored(&h, "support", RESET, &hdr).await;
    let spent_before = h.gateway.key_usage(&info.id).unwrap();
    let hit = ask(&h, "support", RESET_AGAIN, &hdr).await;
    assert_eq!(cache(&hit), "hit-semantic", "{}", hit.text());
    assert_eq!(
        hit.header("x-switchyard-cache-similarity").as_deref(),
        Some("0.96")
    );
    assert_eq!(
        hit.json()["choices"][0]["message"]["content"],
        first.json()["choices"][0]["message"]["content"]
    );
    assert_eq!(
        h.sim_count("gpt-4o-mini").await,
        1,
        "served without the provider"
    );
    let spent_after = h.gateway.key_usage(&info.id).unwrap();
    assert_eq!(
        spent_after.budgets[0].spent_usd, spent_before.budgets[0].spent_usd,
        "the semantic hit is not charged"
    );
    assert_eq!(spent_after.tokens_remaining, spent_before.tokens_remaining);
    let records = h.finish().await;
    let miss = records
        .iter()
        .find(|r| r.route == "support" && r.cache.is_none())
        .unwrap();
    let sem = records
        .iter()
        .find(|r| r.cache.as_deref() == Some("semantic"))
        .expect("a semantic record");
    assert!(sem.cost_usd.unwrap().is_zero());
    assert_eq!(sem.saved_usd, miss.cost_usd);
    assert!(!sem.saved_usd.unwrap().is_zero());
}

#[tokio::test]
async fn an_anthropic_client_streaming_a_paraphrase_gets_the_openai_answer_replayed_as_sse() {
    let h = start(SIM, GATEWAY).await;
    h.gateway.set_semantic_embedder("support", table());
    let first = ask(&h, "support", RESET, &[]).await;
    stored(&h, "support", RESET, &[]).await;
    let body = json!({"model": "support", "temperature": 0, "max_tokens": 50, "stream": true,
        "system": "Be brief.", "messages": [{"role": "user", "content": RESET_AGAIN}]});
    let a = h
        .post_with("/v1/messages", body.to_string().into_bytes(), &[])
        .await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(cache(&a), "hit-semantic");
    let text = a.text();
    assert!(text.contains("event: message_start"), "{text}");
    let answer = first.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let first_word = answer.split_whitespace().next().unwrap();
    assert!(
        text.contains(first_word),
        "the stored answer is replayed: {text}"
    );
    assert_eq!(h.sim_count("gpt-4o-mini").await, 1);
}

#[tokio::test]
async fn a_near_miss_with_a_different_number_goes_upstream() {
    let h = start(SIM, GATEWAY).await;
    h.gateway.set_semantic_embedder("support", table());
    assert_eq!(cache(&ask(&h, "support", SHARE_200, &[]).await), "miss");
    stored(&h, "support", SHARE_200, &[]).await;
    let near = ask(&h, "support", SHARE_300, &[]).await;
    assert_eq!(cache(&near), "miss", "the number guard refuses 300 for 200");
    assert_eq!(near.header("x-switchyard-cache-similarity"), None);
    assert_eq!(h.sim_count("gpt-4o-mini").await, 2);
}

#[tokio::test]
async fn a_team_scoped_semantic_entry_never_serves_another_team() {
    let h = start(SIM, GATEWAY).await;
    h.gateway.set_semantic_embedder("by-team", table());
    let a = [("x-switchyard-tags", "team=a")];
    let b = [("x-switchyard-tags", "team=b")];
    assert_eq!(cache(&ask(&h, "by-team", RESET, &a).await), "miss");
    stored(&h, "by-team", RESET, &a).await;
    assert_eq!(cache(&ask(&h, "by-team", RESET_AGAIN, &b).await), "miss");
    assert_eq!(
        cache(&ask(&h, "by-team", RESET_AGAIN, &a).await),
        "hit-semantic",
        "the same team is served"
    );
}

#[tokio::test]
async fn shadow_mode_calls_the_provider_anyway_and_counts_the_comparison() {
    let h = start(SIM, GATEWAY).await;
    h.gateway.set_semantic_embedder("shadowed", table());
    assert_eq!(cache(&ask(&h, "shadowed", RESET, &[]).await), "miss");
    stored(&h, "shadowed", RESET, &[]).await;
    assert_eq!(cache(&ask(&h, "shadowed", RESET_AGAIN, &[]).await), "miss");
    assert_eq!(
        h.sim_count("gpt-4o-mini").await,
        2,
        "the provider was called"
    );
    let url = format!("{}/v1/status", h.base);
    let mut compared = 0;
    for _ in 0..100 {
        let s = h.get(&url).await.json()["cache"]["semantic"]["shadowed"].clone();
        assert_eq!(s["mode"], "shadow");
        assert_eq!(s["shadow_hits"], 1);
        compared = s["shadow_agreed"].as_u64().unwrap() + s["shadow_disagreed"].as_u64().unwrap();
        if compared == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        compared, 1,
        "the would-be answer was compared with the fresh one"
    );
}

#[tokio::test]
async fn an_embedder_that_is_down_never_fails_a_request() {
    let h = start(SIM, GATEWAY).await;
    h.gateway.set_semantic_embedder("support", Arc::new(Down));
    assert_eq!(cache(&ask(&h, "support", RESET, &[]).await), "miss");
    stored(&h, "support", RESET, &[]).await;
    let again = ask(&h, "support", RESET_AGAIN, &[]).await;
    assert_eq!(cache(&again), "miss", "no semantic lookup without a vector");
    let status = h.get(&format!("{}/v1/status", h.base)).await.json();
    assert!(
        status["cache"]["semantic"]["support"]["embed_failures"]
            .as_u64()
            .unwrap()
            >= 2
    );
}

#[tokio::test]
async fn an_embeddings_route_is_called_in_process_and_recorded_as_its_own_request() {
    let h = start(SIM, GATEWAY).await;
    // The sim's vectors hash the text, so only the same normalised text is near: white space
    // changes the exact key but not the embedded text.
    assert_eq!(
        cache(&ask(&h, "real", "What is a cache?", &[]).await),
        "miss"
    );
    stored(&h, "real", "What is a cache?", &[]).await;
    let hit = ask(&h, "real", "  What is   a cache? ", &[]).await;
    assert_eq!(cache(&hit), "hit-semantic", "{}", hit.text());
    assert_eq!(
        hit.header("x-switchyard-cache-similarity").as_deref(),
        Some("1.00")
    );
    let records = h.finish().await;
    let embeds = records.iter().filter(|r| r.route == "embed").count();
    assert!(
        embeds >= 2,
        "each lookup's embedding is its own record ({embeds})"
    );
}

/// Regression: the semantic cache's embedding calls skipped the exact embeddings cache, so
/// the same normalised text was embedded upstream on every lookup.
#[tokio::test]
async fn repeated_lookups_of_one_text_embed_it_upstream_once() {
    let h = start(SIM, GATEWAY).await;
    // Exact misses all (the white space differs; the later two are semantic hits), one
    // normalised text: one embedding upstream.
    for text in [
        "Why is the sky blue?",
        " Why is the sky blue? ",
        "Why  is the sky blue?",
    ] {
        let body = json!({"model": "real", "temperature": 0, "max_tokens": 50,
            "messages": [{"role": "user", "content": text}]});
        let a = h
            .post_with("/v1/chat/completions", body.to_string().into_bytes(), &[])
            .await;
        assert_eq!(a.status, 200, "{}", a.text());
    }
    assert_eq!(h.sim_count("text-embedding-3-small").await, 1);
    // Another scope's caller (a team route) does not read that vector: its own call.
    ask(
        &h,
        "by-team",
        "Why is the sky blue?",
        &[("x-switchyard-tags", "team=red")],
    )
    .await;
    assert_eq!(h.sim_count("text-embedding-3-small").await, 2);
    let records = h.finish().await;
    let embeds: Vec<_> = records.iter().filter(|r| r.route == "embed").collect();
    assert_eq!(
        embeds.len(),
        4,
        "each lookup's embedding is still its own record"
    );
    let cached = embeds
        .iter()
        .filter(|r| r.cache.as_deref() == Some("exact"))
        .count();
    assert_eq!(cached, 2, "the two served from the embeddings cache say so");
}

#[tokio::test]
async fn semantic_configuration_errors_name_each_field() {
    let text = GATEWAY
        .replace("SIM_URL", "http://127.0.0.1:9")
        .replacen("embedder = \"embed\"\n", "embedder = \"nowhere\"\n", 1)
        .replace("min_similarity = 0.95", "min_similarity = 1.5")
        + "[[routes]]\nname = \"off\"\ntargets = [{ provider = \"oai\", model = \"gpt-4o-mini\" }]\n[routes.cache]\nenabled = false\n[routes.cache.semantic]\nembedder = \"embed\"\n";
    let errs = switchyard_gateway::Config::from_toml(&text).unwrap_err();
    let paths: Vec<&str> = errs.0.iter().map(|e| e.path.as_str()).collect();
    assert!(
        paths.contains(&"routes[4].cache.semantic.min_similarity"),
        "{errs}"
    );
    assert!(paths.contains(&"routes[5].cache.semantic"), "{errs}");
    assert!(
        paths.contains(&"routes[1].cache.semantic.embedder"),
        "{errs}"
    );
    assert!(errs.to_string().contains("nowhere"));
}

#[tokio::test]
async fn a_reload_with_a_bad_semantic_table_is_refused_naming_the_field() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    let text = std::fs::read_to_string(&h.config_file).unwrap();
    let bad = text.replace("min_similarity = 0.95", "min_similarity = -0.1");
    std::fs::write(&h.config_file, bad).unwrap();
    let auth = format!("Bearer {MASTER}");
    let r = h
        .call("POST", "/admin/reload", &[("authorization", &auth)], None)
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("routes[4].cache.semantic.min_similarity"),
        "{}",
        r.text()
    );
}
