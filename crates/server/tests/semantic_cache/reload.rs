//! The semantic index across a reload: kept when the route's semantic policy (its
//! fingerprint) is unchanged, even when the mode goes from shadow to serve; rebuilt empty
//! when it changed, while the exact store is kept.

use super::*;

#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a failed edit should stop the test"
)]
async fn reload(h: &Harness, edit: impl Fn(&str) -> String) {
    let text = std::fs::read_to_string(&h.config_file).unwrap();
    let changed = edit(&text);
    assert_ne!(changed, text, "the edit changed nothing");
    std::fs::write(&h.config_file, changed).unwrap();
    let auth = format!("Bearer {MASTER}");
    let r = h
        .call("POST", "/admin/reload", &[("authorization", &auth)], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a missing count should stop the test"
)]
async fn entries(h: &Harness, route: &str) -> u64 {
    let s = h.get(&format!("{}/v1/status", h.base)).await.json();
    s["cache"]["semantic"][route]["entries"].as_u64().unwrap()
}

#[tokio::test]
async fn a_reload_that_keeps_the_semantic_policy_keeps_the_index_even_from_shadow_to_serve() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    h.gateway.set_semantic_embedder("shadowed", table());
    assert_eq!(cache(&ask(&h, "shadowed", RESET, &[]).await), "miss");
    stored(&h, "shadowed", RESET, &[]).await;
    assert_eq!(entries(&h, "shadowed").await, 1);
    // Only the mode changes (and another route's threshold): the index is the same.
    reload(&h, |t| {
        t.replace("mode = \"shadow\"\n", "")
            .replace("min_similarity = 0.95", "min_similarity = 0.96")
    })
    .await;
    assert_eq!(entries(&h, "shadowed").await, 1, "the index survived");
    let a = ask(&h, "shadowed", RESET_AGAIN, &[]).await;
    assert_eq!(cache(&a), "hit-semantic", "now served from the kept index");
}

#[tokio::test]
async fn a_reload_that_changes_the_semantic_policy_rebuilds_its_index_empty() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    h.gateway.set_semantic_embedder("support", table());
    assert_eq!(cache(&ask(&h, "support", RESET, &[]).await), "miss");
    stored(&h, "support", RESET, &[]).await;
    assert_eq!(entries(&h, "support").await, 1);
    reload(&h, |t| {
        t.replacen(
            "embedder = \"embed\"\n[[routes]]\nname = \"by-team\"",
            "embedder = \"embed\"\nmin_similarity = 0.5\n[[routes]]\nname = \"by-team\"",
            1,
        )
    })
    .await;
    assert_eq!(
        entries(&h, "support").await,
        0,
        "a changed policy starts empty"
    );
    let a = ask(&h, "support", RESET_AGAIN, &[]).await;
    assert_eq!(cache(&a), "miss", "{}", a.text());
    assert_eq!(
        cache(&ask(&h, "support", RESET, &[]).await),
        "hit",
        "the exact store is kept"
    );
}
