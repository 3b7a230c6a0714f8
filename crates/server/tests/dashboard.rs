//! The dashboard's JSON API (`/v1/dashboard/*`) and pages (`/ui`): every figure equals what
//! the ledger and strategy engine compute for the same ledger (what the CLI prints), a
//! virtual key sees only its own rows, and bad input gets 401/403/400 naming the problem.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use chrono::{Duration, Utc};
use common::{Answer, Harness, MASTER, start_with};
use serde_json::{Value, json};
use std::str::FromStr;
use switchyard_ledger::{
    Attempt, AttemptOutcome, Dimension, Location, Record, RecordKind, SummaryQuery, Window,
};
use switchyard_primitives::{Money, TokenUsage};

const SIM: &str = "seed = 2\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.openai]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[providers.anthropic]
kind = "anthropic"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[[routes]]
name = "chat"
targets = [{ provider = "openai", model = "gpt-4o-mini" }]
[[routes]]
name = "rag"
targets = [{ provider = "anthropic", model = "claude-haiku-4-5" }]
"#;

const ENV: &[(&str, &str)] = &[("SWITCHYARD_MASTER_KEY", MASTER)];

fn usd(s: &str) -> Money {
    Money::from_str(s).unwrap()
}

/// A request `days_ago` days back (at most a minute ago today), on `route`, for `key`.
fn record(n: u32, days_ago: i64, route: &str, key: &str) -> Record {
    let (provider, model) = match route {
        "rag" => ("anthropic", "claude-haiku-4-5"),
        _ => ("openai", "gpt-4o-mini"),
    };
    let ts = Utc::now() - Duration::days(days_ago) - Duration::seconds(i64::from(n) + 60);
    Record {
        request_id: format!("req-{n}"),
        ts,
        kind: RecordKind::Chat,
        workload: Some(if route == "rag" { "search" } else { "support" }.into()),
        tags: vec![],
        key_id: Some(key.into()),
        team: Some("payments".into()),
        route: route.into(),
        provider: Some(provider.into()),
        model: Some(model.into()),
        attempts: vec![Attempt {
            provider: provider.into(),
            model: model.into(),
            outcome: AttemptOutcome::Ok,
            status: Some(200),
            latency_ms: 10,
            error: None,
        }],
        status: if n % 5 == 0 { 502 } else { 200 },
        error_class: (n % 5 == 0).then(|| "upstream".into()),
        streamed: false,
        shadow: false,
        features: String::new(),
        usage: TokenUsage {
            input: 1000,
            output: 200,
            ..Default::default()
        },
        cost_usd: Some(usd("0.0125") * rust_decimal::Decimal::from(n % 3 + 1)),
        price_version: None,
        latency_ms: f64::from(10 * (n % 10 + 1)),
        ttft_ms: None,
        overhead_us: 50,
        usage_estimated: false,
        request_count: 1,
        source: "gateway".into(),
        prefix: None,
        cascade: None,
        cache: None,
        saved_usd: None,
        batch: false,
        fingerprint: None,
        routing_baseline_usd: None,
    }
}

/// A gateway with a master key, one virtual key (its id and secret), and 40 requests over
/// 12 days: even ones on `chat` for the virtual key, odd ones on `rag` for `key_other`.
async fn seeded() -> (Harness, String, String) {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let r = h
        .call(
            "POST",
            "/admin/keys",
            &[("authorization", &bearer(MASTER))],
            Some(&json!({"name": "mine"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let (id, secret) = (
        r.json()["key_info"]["id"].as_str().unwrap().to_string(),
        r.json()["key"].as_str().unwrap().to_string(),
    );
    let rows: Vec<Record> = (0..40u32)
        .map(|n| match n % 2 {
            0 => record(n, i64::from(n % 12), "chat", &id),
            _ => record(n, i64::from(n % 12), "rag", "key_other"),
        })
        .collect();
    let mut store = Location::from(h.ledger.as_path()).open().unwrap();
    assert_eq!(store.append(&rows).unwrap(), 40);
    (h, id, secret)
}

fn bearer(k: &str) -> String {
    format!("Bearer {k}")
}

async fn get(h: &Harness, path: &str, key: Option<&str>) -> Answer {
    let auth = key.map(bearer).unwrap_or_default();
    let headers: Vec<(&str, &str)> = key
        .map(|_| ("authorization", auth.as_str()))
        .into_iter()
        .collect();
    h.call("GET", path, &headers, None).await
}

async fn ok(h: &Harness, path: &str, key: &str) -> Value {
    let r = get(h, path, Some(key)).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

fn money(v: &Value) -> Money {
    usd(v.as_str().unwrap_or_else(|| panic!("not money: {v}")))
}

fn store(h: &Harness) -> Box<dyn switchyard_ledger::Store> {
    Location::from(h.ledger.as_path()).open_existing().unwrap()
}

#[tokio::test]
async fn the_overview_equals_the_ledger_summary_and_savings_for_the_same_days() {
    let (h, _, _) = seeded().await;
    let o = ok(&h, "/v1/dashboard/overview?by=provider", MASTER).await;
    let today = Utc::now().date_naive();
    let q = |since| SummaryQuery {
        by: Dimension::Day,
        since: Some(since),
        include_shadow: false,
    };
    let s = store(&h);
    let month = s.summary(&q(today - Duration::days(29))).unwrap();
    let total: Money = month.iter().map(|r| r.cost_usd).sum();
    assert_eq!(money(&o["spend_30d"]), total.round_cents());
    let week: Money = s
        .summary(&q(today - Duration::days(6)))
        .unwrap()
        .iter()
        .map(|r| r.cost_usd)
        .sum();
    assert_eq!(money(&o["spend_7d"]), week.round_cents());
    let day: Money = s
        .summary(&q(today))
        .unwrap()
        .iter()
        .map(|r| r.cost_usd)
        .sum();
    assert_eq!(money(&o["spend_today"]), day.round_cents());
    let run_rate =
        (week * (rust_decimal::Decimal::from(30) / rust_decimal::Decimal::from(7))).round_cents();
    assert_eq!(money(&o["run_rate_monthly"]), run_rate);
    assert_eq!(o["requests"], month.iter().map(|r| r.requests).sum::<u64>());
    assert_eq!(o["errors"], 8);
    assert_eq!(o["error_rate"], 0.2);
    // The series stacks by provider, one point per day and provider.
    let providers: std::collections::BTreeSet<&str> = o["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        providers.into_iter().collect::<Vec<_>>(),
        ["anthropic", "openai"]
    );
    let saved = s
        .savings_report(
            &h.gateway.catalog(),
            &Window::since(Some(today - Duration::days(29))),
        )
        .unwrap();
    assert_eq!(
        money(&o["savings"]["spent_usd"]),
        saved.savings.spent_usd.round_cents()
    );
    // Today's requests: 40 over 12 days puts 4 today (n = 0, 12, 24, 36 and their odd peers).
    assert!(o["latency_24h"]["requests"].as_u64().unwrap() >= 3, "{o}");
    let by_team = ok(&h, "/v1/dashboard/overview?by=team&days=7", MASTER).await;
    assert!(
        by_team["series"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["key"] == "payments")
    );
    h.finish().await;
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_a_401_in_openai_shape_and_a_virtual_key_sees_only_its_own() {
    let (h, id, secret) = seeded().await;
    for key in [None, Some("sk-sy-not-a-key-of-this-gateway")] {
        let r = get(&h, "/v1/dashboard/overview", key).await;
        assert_eq!(r.status, 401, "{}", r.text());
        let e = &r.json()["error"];
        assert_eq!(e["type"], "authentication_error");
        assert!(e["message"].as_str().unwrap().contains("key"), "{e}");
    }
    let mine = ok(&h, "/v1/dashboard/overview", &secret).await;
    assert_eq!(mine["key_id"], id.as_str());
    assert!(
        mine["savings"].is_null(),
        "the savings ledger is the operator's"
    );
    let page = ok(
        &h,
        "/v1/dashboard/requests?limit=500&key=key_other",
        &secret,
    )
    .await;
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|r| r["key_id"] == id.as_str()));
    let own: Money = rows.iter().map(|r| money(&r["cost_usd"])).sum();
    assert_eq!(money(&mine["spend_30d"]), own.round_cents());
    let session = ok(&h, "/v1/dashboard/session", &secret).await;
    assert_eq!(session, json!({"view": "key", "key_id": id}));
    let keys = ok(&h, "/v1/dashboard/keys", &secret).await;
    assert_eq!(keys["data"].as_array().unwrap().len(), 1);
    for path in [
        "/v1/dashboard/traffic",
        "/v1/dashboard/shock?provider=openai",
        "/v1/dashboard/report",
        "/v1/dashboard/evaluation",
    ] {
        let r = get(&h, path, Some(&secret)).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text());
        assert_eq!(r.json()["error"]["type"], "permission_error");
    }
    h.finish().await;
}

#[tokio::test]
async fn recent_requests_filter_and_page_newest_first() {
    let (h, _, _) = seeded().await;
    let first = ok(
        &h,
        "/v1/dashboard/requests?route=rag&status=error&limit=2",
        MASTER,
    )
    .await;
    let rows = first["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r["route"] == "rag" && r["status"] == 502)
    );
    let next = first["next"].as_str().unwrap();
    let second = ok(
        &h,
        &format!("/v1/dashboard/requests?route=rag&status=error&limit=2&after={next}"),
        MASTER,
    )
    .await;
    // rag errors: n = 5, 15, 25, 35 → four rows, two pages, no third.
    assert_eq!(second["rows"].as_array().unwrap().len(), 2);
    assert!(second["next"].is_null());
    let ts = |v: &Value| v["ts"].as_str().unwrap().to_string();
    assert!(ts(&rows[1]) >= ts(&second["rows"][0]));
    let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let recent = ok(
        &h,
        &format!("/v1/dashboard/requests?from={today}&limit=500"),
        MASTER,
    )
    .await;
    let all = store(&h)
        .summary(&SummaryQuery {
            by: Dimension::Day,
            since: Some(Utc::now().date_naive()),
            include_shadow: false,
        })
        .unwrap();
    assert_eq!(
        recent["rows"].as_array().unwrap().len() as u64,
        all.iter().map(|r| r.requests).sum::<u64>()
    );
    assert!(
        !recent.to_string().contains("messages"),
        "no prompt in a row"
    );
    h.finish().await;
}

#[tokio::test]
async fn malformed_filters_are_a_400_naming_the_parameter() {
    let (h, _, _) = seeded().await;
    for (path, param) in [
        ("/v1/dashboard/requests?route=nope", "route"),
        ("/v1/dashboard/requests?status=teapot", "status"),
        ("/v1/dashboard/requests?limit=0", "limit"),
        ("/v1/dashboard/requests?limit=many", "limit"),
        ("/v1/dashboard/requests?from=yesterday", "from"),
        ("/v1/dashboard/requests?until=2026-13-01", "until"),
        ("/v1/dashboard/requests?after=xyz", "after"),
        ("/v1/dashboard/requests?rout=chat", "rout"),
        ("/v1/dashboard/overview?days=0", "days"),
        ("/v1/dashboard/overview?by=colour", "by"),
        ("/v1/dashboard/traffic?days=400", "days"),
        ("/v1/dashboard/shock", "provider"),
        ("/v1/dashboard/shock?provider=nobody", "provider"),
        ("/v1/dashboard/shock?provider=openai&factor=-1", "factor"),
        ("/v1/dashboard/report?format=pdf", "format"),
    ] {
        let r = get(&h, path, Some(MASTER)).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        let e = &r.json()["error"];
        assert_eq!(e["param"], param, "{path}: {e}");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("`{param}`")),
            "{e}"
        );
    }
    h.finish().await;
}

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
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/openapi.yaml"
    ))
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
            spec.contains(&format!("\n  {path}:\n")),
            "{path} is not in docs/openapi.yaml"
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
