//! The dashboard's JSON API (`/v1/dashboard/*`): the overview's and the recent requests'
//! figures equal what the ledger computes for the same ledger (what the CLI prints), a virtual
//! key sees only its own rows, and bad input gets 401/403/400 naming the problem. The strategy
//! views, contracts and pages: `dashboard_strategy.rs`.

mod common;

use chrono::{Duration, Utc};
use common::MASTER;
use common::dashboard::{get, money, ok, seeded, store};
use serde_json::{Value, json};
use switchyard_ledger::{Dimension, SummaryQuery, Window};
use switchyard_primitives::Money;

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
