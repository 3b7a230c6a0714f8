//! Cascade routing against the simulator: the cheap tier first, its answer checked, an answer
//! that fails the checks escalated to the top tier, every tier in the ledger and the budget.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::{Harness, MASTER, start_with};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use switchyard_ledger::AttemptOutcome;

const SIM: &str = "seed = 5\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n[models.\"gpt-4o-mini\"]\nttft_ms = 0\ntokens_per_second = 0\nbroken_json = true\n";

/// The dear target is listed first: the cascade must still try the cheap one first.
const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[[routes]]
name = "classify"
strategy = "cascade"
targets = [{ provider = "sim", model = "gpt-4o" }, { provider = "sim", model = "gpt-4o-mini" }]
[[routes.cascade.checks]]
type = "json-valid"
"#;

fn ask() -> Value {
    json!({"model": "classify", "response_format": {"type": "json_object"},
        "messages": [{"role": "user", "content": "Label this ticket as JSON: my card was charged twice"}]})
}

async fn key(h: &Harness) -> (String, String) {
    let spec = json!({"budgets": [{"period": "day", "limit_usd": "10"}]});
    let auth = format!("Bearer {MASTER}");
    let r = h
        .call(
            "POST",
            "/admin/keys",
            &[("authorization", &auth)],
            Some(&spec),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    let id = v["key_info"]["id"].as_str().unwrap().to_string();
    (id, v["key"].as_str().unwrap().to_string())
}

fn spent(h: &Harness, id: &str) -> Decimal {
    h.gateway.key_usage(id).unwrap().budgets[0].spent_usd.0
}

#[tokio::test]
async fn an_invalid_cheap_answer_escalates_to_the_top_tier_and_a_valid_one_stops_at_tier_one() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    let (id, secret) = key(&h).await;
    let auth = format!("Bearer {secret}");
    let headers = [("authorization", auth.as_str())];

    let escalated = h
        .post_with(
            "/v1/chat/completions",
            ask().to_string().into_bytes(),
            &headers,
        )
        .await;
    assert_eq!(escalated.status, 200, "{}", escalated.text());
    assert_eq!(
        escalated.header("x-switchyard-cascade-tier").as_deref(),
        Some("2")
    );
    assert_eq!(
        escalated.header("x-switchyard-model").as_deref(),
        Some("gpt-4o")
    );
    let content = escalated.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        serde_json::from_str::<Value>(&content).is_ok(),
        "the top tier's JSON: {content}"
    );
    let after_first = spent(&h, &id);

    h.sim_behaviour("gpt-4o-mini", &json!({"broken_json": false}))
        .await;
    let cheap = h
        .post_with(
            "/v1/chat/completions",
            ask().to_string().into_bytes(),
            &headers,
        )
        .await;
    assert_eq!(cheap.status, 200, "{}", cheap.text());
    assert_eq!(
        cheap.header("x-switchyard-cascade-tier").as_deref(),
        Some("1")
    );
    assert_eq!(
        cheap.header("x-switchyard-model").as_deref(),
        Some("gpt-4o-mini")
    );
    assert_eq!(h.sim_count("gpt-4o-mini").await, 2);
    assert_eq!(h.sim_count("gpt-4o").await, 1);
    let total_spent = spent(&h, &id);

    let recs = h.finish().await;
    let mine: Vec<_> = recs.iter().filter(|r| r.route == "classify").collect();
    assert_eq!(mine.len(), 2, "one record per client request");
    let (up, stayed) = (mine[0], mine[1]);
    assert_eq!(up.cascade.as_ref().unwrap().tier, 2);
    assert_eq!(up.attempts.len(), 2);
    assert_eq!(up.attempts[0].model, "gpt-4o-mini");
    assert_eq!(up.attempts[0].outcome, AttemptOutcome::Escalated);
    assert!(
        up.attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("json-valid")
    );
    assert_eq!(up.attempts[1].outcome, AttemptOutcome::Ok);
    // What was paid: both tiers. The budget was charged exactly that.
    let up_cost = up.cost_usd.unwrap().0;
    let top_alone = up.cascade.as_ref().unwrap().baseline_usd.unwrap().0;
    assert!(
        up_cost > top_alone,
        "both tiers cost more than the top tier alone"
    );
    assert_eq!(after_first, up_cost, "the budget pays for both tiers");

    let mark = stayed.cascade.as_ref().unwrap();
    assert_eq!(mark.tier, 1);
    assert_eq!(stayed.attempts.len(), 1);
    let cheap_cost = stayed.cost_usd.unwrap().0;
    assert!(
        mark.baseline_usd.unwrap().0 > cheap_cost,
        "the top tier is dearer"
    );
    assert_eq!(total_spent, up_cost + cheap_cost);
}

#[tokio::test]
async fn a_streamed_request_on_a_cascade_route_is_refused_with_a_400_naming_stream() {
    let h = start_with(SIM, GATEWAY, &[]).await;
    let mut body = ask();
    body["stream"] = json!(true);
    let r = h.post("/v1/chat/completions", &body).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let err = &r.json()["error"];
    assert_eq!(err["param"], "stream");
    assert!(
        err["message"].as_str().unwrap().contains("cascade"),
        "{err}"
    );
    assert_eq!(h.sim_count("gpt-4o-mini").await, 0);
}

#[tokio::test]
async fn the_ledger_reports_escalation_rate_and_cost_against_the_top_tier() {
    let h = start_with(SIM, GATEWAY, &[]).await;
    for _ in 0..2 {
        assert_eq!(h.post("/v1/chat/completions", &ask()).await.status, 200);
    }
    h.sim_behaviour("gpt-4o-mini", &json!({"broken_json": false}))
        .await;
    for _ in 0..2 {
        assert_eq!(h.post("/v1/chat/completions", &ask()).await.status, 200);
    }
    let ledger = h.ledger.clone();
    h.finish().await;
    let store = switchyard_ledger::SqliteStore::open_existing(&ledger).unwrap();
    let rows = switchyard_ledger::Store::cascade(&store, None).unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(
        (row.route.as_str(), row.requests, row.escalated),
        ("classify", 4, 2)
    );
    assert!((row.escalation_rate() - 0.5).abs() < 1e-9);
    assert!(
        row.top_tier_usd > row.cost_usd,
        "half the requests stayed on the cheap tier"
    );
    assert_eq!(row.saved_usd(), row.top_tier_usd - row.cost_usd);
}

#[tokio::test]
async fn a_top_tier_that_fails_after_an_escalation_records_every_attempt_and_what_was_paid() {
    let h = start_with(SIM, GATEWAY, &[]).await;
    h.sim_behaviour("gpt-4o", &json!({"error_rate": 1.0})).await;
    let r = h.post("/v1/chat/completions", &ask()).await;
    assert!(r.status >= 500, "{} {}", r.status, r.text());
    let recs = h.finish().await;
    let rec = recs.iter().find(|r| r.route == "classify").unwrap();
    let outcomes: Vec<_> = rec
        .attempts
        .iter()
        .map(|a| (a.model.as_str(), a.outcome))
        .collect();
    assert_eq!(outcomes[0], ("gpt-4o-mini", AttemptOutcome::Escalated));
    assert!(
        outcomes[1..]
            .iter()
            .all(|(m, o)| *m == "gpt-4o" && *o == AttemptOutcome::ServerError),
        "{outcomes:?}"
    );
    assert!(
        rec.cost_usd.unwrap().0 > Decimal::ZERO,
        "the cheap tier's answer was paid for"
    );
    assert!(rec.usage.output > 0);
}

/// The budget hold while `route` answers a slow request.
async fn hold_while_in_flight(h: &Harness, id: &str, secret: &str, route: &str) -> Decimal {
    let url = format!("{}/v1/chat/completions", h.base);
    let auth = format!("Bearer {secret}");
    let mut body = ask();
    body["model"] = json!(route);
    body["max_tokens"] = json!(1000);
    let task = tokio::spawn(async move {
        let client = switchyard_providers::HttpClient::new(&Default::default()).unwrap();
        client
            .post_json(&url, &[("authorization", auth.as_str())], body.to_string())
            .await
            .unwrap()
            .status
    });
    let mut held = Decimal::ZERO;
    for _ in 0..200 {
        held = h.gateway.key_usage(id).unwrap().budgets[0].reserved_usd.0;
        if held > Decimal::ZERO {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(task.await.unwrap(), 200);
    held
}

#[tokio::test]
async fn a_cascade_holds_the_sum_of_its_tiers_worst_cases_so_a_hard_budget_stays_hard() {
    let slow = "[defaults]\nttft_ms = 300\ntokens_per_second = 0\n";
    let gateway = format!(
        "{GATEWAY}\n[[routes]]\nname = \"fallback\"\ntargets = [{{ provider = \"sim\", model = \"gpt-4o\" }}, {{ provider = \"sim\", model = \"gpt-4o-mini\" }}]\n"
    );
    let h = start_with(slow, &gateway, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    let (id, secret) = key(&h).await;
    let plain = hold_while_in_flight(&h, &id, &secret, "fallback").await;
    let cascade = hold_while_in_flight(&h, &id, &secret, "classify").await;
    assert!(plain > Decimal::ZERO, "the request was seen in flight");
    assert!(
        cascade > plain,
        "cascade hold {cascade} must exceed the dearest tier's {plain}"
    );
    h.finish().await;
}

#[tokio::test]
async fn anthropic_clients_get_the_top_tier_answer_when_every_tier_fails_the_checks() {
    let h = start_with(SIM, GATEWAY, &[]).await;
    // No JSON was asked for, so neither tier's prose passes `json-valid`: the top tier's
    // answer is returned anyway, as the best there is.
    let body = json!({"model": "classify", "max_tokens": 64,
        "messages": [{"role": "user", "content": "Label this ticket: my card was charged twice"}]});
    let headers = [("anthropic-version", "2023-06-01")];
    let r = h
        .post_with("/v1/messages", body.to_string().into_bytes(), &headers)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["type"], "message");
    assert_eq!(r.header("x-switchyard-cascade-tier").as_deref(), Some("2"));
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let refused = h
        .post_with("/v1/messages", streamed.to_string().into_bytes(), &headers)
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert_eq!(refused.json()["error"]["type"], "invalid_request_error");
    let recs = h.finish().await;
    let rec = recs.iter().find(|r| r.status == 200).unwrap();
    assert_eq!(rec.attempts[0].outcome, AttemptOutcome::Escalated);
    assert_eq!(rec.cascade.as_ref().unwrap().tier, 2);
}
