//! The dashboard's operator views (`/v1/dashboard/*`): traffic and keys against the ledger's
//! figures, the price shock and contract offers against the strategy engine's, the report
//! downloads, the embedded pages, and every path described in docs/openapi.json.

mod common;

use chrono::{Duration, Utc};
use common::MASTER;
use common::dashboard::{ENV, GATEWAY, SIM, bearer, get, money, ok, seeded, store};
use common::start_with;
use serde_json::json;
use switchyard_ledger::{Dimension, SummaryQuery};
use switchyard_primitives::Money;

#[tokio::test]
async fn traffic_and_keys_carry_the_ledger_figures_per_route_target_and_key() {
    let (h, id, _) = seeded().await;
    let t = ok(&h, "/v1/dashboard/traffic?days=30", MASTER).await;
    let since = Some(Utc::now().date_naive() - Duration::days(29));
    let routes = store(&h)
        .summary(&SummaryQuery {
            by: Dimension::Route,
            since,
            include_shadow: false,
        })
        .unwrap();
    let got: Vec<(String, u64)> = t["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().into(),
                r["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, u64)> = routes.iter().map(|r| (r.key.clone(), r.requests)).collect();
    assert_eq!(got, want);
    assert_eq!(t["routes"][0]["error_rate"], 0.2);
    let targets: Vec<&str> = t["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert!(
        targets.contains(&"openai/gpt-4o-mini") && targets.contains(&"anthropic/claude-haiku-4-5")
    );
    let live = t["live"].as_array().unwrap();
    assert_eq!(live.len(), 2);
    assert_eq!(live[0]["targets"][0]["breaker"], "closed");
    let keys = ok(&h, "/v1/dashboard/keys", MASTER).await;
    let by_key = store(&h)
        .summary(&SummaryQuery {
            by: Dimension::Key,
            since,
            include_shadow: false,
        })
        .unwrap();
    let mine = by_key.iter().find(|r| r.key == id).unwrap();
    let row = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap();
    assert_eq!(money(&row["spend_30d"]), mine.cost_usd.round_cents());
    h.finish().await;
}

#[tokio::test]
async fn the_price_shock_is_the_strategy_engines_and_the_report_downloads_as_markdown_and_html() {
    let (h, _, _) = seeded().await;
    let got = ok(&h, "/v1/dashboard/shock?provider=openai&factor=3", MASTER).await;
    let s = store(&h);
    let history = switchyard_strategy::History::load(s.as_ref(), None).unwrap();
    let catalog = h.gateway.catalog();
    let today = Utc::now().date_naive();
    let lockins =
        switchyard_strategy::lockin::score_all(&history, &catalog, &Default::default(), today, &[]);
    let want = switchyard_strategy::report::shock(
        &history,
        &catalog,
        today,
        ("openai", 3.into(), &lockins),
    );
    let mut want = serde_json::to_value(&want).unwrap();
    switchyard_strategy::rounding::round_json(&mut want);
    assert_eq!(got, want);
    assert!(money(&got["monthly_increase"]) > Money::ZERO);
    let md = get(&h, "/v1/dashboard/report?format=markdown", Some(MASTER)).await;
    assert_eq!(md.status, 200);
    assert!(
        md.header("content-disposition")
            .unwrap()
            .contains("vendor-strategy.md")
    );
    assert!(md.text().contains("support"), "{}", md.text());
    let html = get(&h, "/v1/dashboard/report?format=html", Some(MASTER)).await;
    assert!(
        html.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(html.text().contains("<html"));
    let e = ok(&h, "/v1/dashboard/evaluation", MASTER).await;
    assert_eq!(
        e,
        json!({"datasets": [], "runs": [], "shadow": [], "readiness": []})
    );
    h.finish().await;
}

#[tokio::test]
async fn the_pages_are_embedded_and_allow_nothing_from_elsewhere() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let page = get(&h, "/ui", None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text()
            .contains("<script type=\"module\" src=\"/ui/app.js\">")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(
        !page.text().contains("https://"),
        "no CDN, no external font"
    );
    let js = get(&h, "/ui/chart.js", None).await;
    assert_eq!(
        js.header("content-type").unwrap(),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(get(&h, "/ui/secrets.txt", None).await.status, 404);
    h.finish().await;
}

#[tokio::test]
async fn every_dashboard_endpoint_is_served_and_described_in_the_openapi_file() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let spec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi.json"
        ))
        .unwrap(),
    )
    .unwrap();
    for path in [
        "session",
        "overview",
        "traffic",
        "requests",
        "keys",
        "shock",
        "report",
        "evaluation",
    ] {
        let path = format!("/v1/dashboard/{path}");
        assert!(
            spec["paths"][&path]["get"].is_object(),
            "GET {path} is not in docs/openapi.json"
        );
        let r = get(&h, &path, None).await;
        assert_eq!(
            r.status,
            401,
            "{path} is not served behind a key: {}",
            r.text()
        );
    }
    h.finish().await;
}

const OFFERS: &str = r#"
[[offers]]
name = "12-month minimum"
provider = "openai"
start = 2027-01-01
term_months = 12
commit = { amount_usd = 5, period = "month", discount = 0.20, kind = "minimum" }
"#;

#[tokio::test]
async fn contract_offers_are_the_contract_simulators_on_the_ledgers_usage_and_bad_offers_a_400() {
    let (h, _, secret) = seeded().await;
    let post = |key: String, body: &'static str| {
        let h = &h;
        async move {
            h.post_with(
                "/v1/dashboard/contracts",
                body.as_bytes().to_vec(),
                &[("authorization", &bearer(&key))],
            )
            .await
        }
    };
    let r = post(MASTER.into(), OFFERS).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let s = store(&h);
    let history = switchyard_strategy::History::load(s.as_ref(), None).unwrap();
    use switchyard_strategy::contract::{self, GrowthModel, SimOptions, UsageHistory};
    let usage = UsageHistory {
        monthly: switchyard_strategy::contract_usage::monthly_totals(&history, Some("openai")),
        hourly_tokens: Some(
            switchyard_strategy::source::hourly_tokens(s.as_ref(), Some("openai"), 30).unwrap(),
        ),
    };
    let growth = GrowthModel {
        monthly_growth_mean: switchyard_strategy::contract_usage::observed_growth(&history),
        monthly_growth_volatility: rust_decimal::Decimal::new(1, 1),
    };
    let offers = contract::parse_offers(OFFERS).unwrap();
    let want = contract::compare(
        &offers,
        &usage,
        &growth,
        &SimOptions {
            paths: 2000,
            ..Default::default()
        },
    )
    .unwrap();
    let mut want = serde_json::to_value(&want).unwrap();
    switchyard_strategy::rounding::round_json(&mut want);
    assert_eq!(r.json(), want);
    assert_eq!(
        r.json()[0]["baseline"],
        true,
        "the on-demand baseline first"
    );
    let bad = post(MASTER.into(), "[[offers]]\nname = 3\n").await;
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert_eq!(bad.json()["error"]["param"], "offers");
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("offers[0]"),
        "{}",
        bad.text()
    );
    assert_eq!(post(secret, OFFERS).await.status, 403);
    h.finish().await;
}
