//! The routing lever against the simulator: a `lowest-cost` route whose first (baseline)
//! target is dear sends requests to its cheap target; each record carries the same usage
//! priced at the baseline, and the ledger's routing saving is exactly the catalog difference.
//! A `fallback` route over the same targets records no baseline (it never reorders).

mod common;

use common::{chat, start};
use serde_json::json;
use switchyard_catalog::Catalog;
use switchyard_ledger::{Lever, Location, Window};
use switchyard_primitives::Money;

const SIM: &str = "seed = 13\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[[routes]]
name = "extract"
strategy = "lowest-cost"
targets = [{ provider = "sim", model = "gpt-4o" }, { provider = "sim", model = "gpt-4o-mini" }]
[[routes]]
name = "plain"
targets = [{ provider = "sim", model = "gpt-4o" }, { provider = "sim", model = "gpt-4o-mini" }]
"#;

#[tokio::test]
async fn a_lowest_cost_pick_records_the_baseline_price_and_the_ledger_sums_the_difference() {
    let h = start(SIM, GATEWAY).await;
    let whole = h
        .post(
            "/v1/chat/completions",
            &chat("extract", "Extract the date: 4 May"),
        )
        .await;
    assert_eq!(whole.status, 200, "{}", whole.text());
    assert_eq!(
        whole.header("x-switchyard-model").as_deref(),
        Some("gpt-4o-mini")
    );
    let mut streamed = chat("extract", "Extract the city: Lyon, 4 May");
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let s = h.post("/v1/chat/completions", &streamed).await;
    assert_eq!(s.status, 200, "{}", s.text());
    let plain = h.post("/v1/chat/completions", &chat("plain", "hi")).await;
    assert_eq!(
        plain.header("x-switchyard-model").as_deref(),
        Some("gpt-4o")
    );
    let ledger = h.ledger.clone();
    let recs = h.finish().await;

    let catalog = Catalog::bundled().unwrap();
    let dear = catalog.get("openai", "gpt-4o").unwrap();
    let cheap = catalog.get("openai", "gpt-4o-mini").unwrap();
    let routed: Vec<_> = recs.iter().filter(|r| r.route == "extract").collect();
    assert_eq!(routed.len(), 2);
    let mut expected = Money::ZERO;
    for r in &routed {
        assert_eq!(r.model.as_deref(), Some("gpt-4o-mini"));
        assert!(r.usage.input > 0 && r.usage.output > 0, "{:?}", r.usage);
        let paid = cheap.cost_at(&r.usage, r.ts).cost;
        let baseline = dear.cost_at(&r.usage, r.ts).cost;
        assert_eq!(r.cost_usd, Some(paid));
        assert_eq!(r.routing_baseline_usd, Some(baseline), "{}", r.request_id);
        assert!(baseline > paid);
        expected += baseline - paid;
    }
    assert!(
        routed.iter().any(|r| r.streamed),
        "the stream is priced too"
    );
    let fallback = recs.iter().find(|r| r.route == "plain").unwrap();
    assert_eq!(
        fallback.routing_baseline_usd, None,
        "fallback never reorders"
    );

    let store = Location::from(ledger.as_path()).open_existing().unwrap();
    let report = store
        .savings_report(&catalog, &Window::since(None))
        .unwrap();
    let routing = report
        .savings
        .levers
        .iter()
        .find(|l| l.lever == Lever::Routing)
        .unwrap();
    assert!(routing.measured);
    assert_eq!(routing.requests, Some(2));
    assert_eq!(routing.saved_usd, expected);
    assert!(expected > Money::ZERO);
}
