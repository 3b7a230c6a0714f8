//! Cascade `judge` checks against the simulator: a judge route rates the cheap tier's answer;
//! a passing verdict keeps it, a failing one (or no verdict at all) escalates; every judge
//! call is a record of its own, attributed to the caller's key and team, and the caller's
//! budget pays for it with the tiers.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use common::{Harness, MASTER, start_with};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use switchyard_ledger::{AttemptOutcome, Record};

/// gpt-4.1-mini plays the judge: `judge_score` makes the simulator answer a rubric verdict.
const SIM: &str = "seed = 5\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n[models.\"gpt-4.1-mini\"]\njudge_score = 0.9\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.sim]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[[routes]]
name = "judge"
targets = [{ provider = "sim", model = "gpt-4.1-mini" }]
[[routes]]
name = "answer"
strategy = "cascade"
targets = [{ provider = "sim", model = "gpt-4o-mini" }, { provider = "sim", model = "gpt-4o" }]
[[routes.cascade.checks]]
type = "min-length"
chars = 1
[[routes.cascade.checks]]
type = "judge"
route = "judge"
rubric = "The answer addresses the customer's question."
threshold = 0.7
"#;

fn ask() -> Value {
    json!({"model": "answer", "max_tokens": 40,
        "messages": [{"role": "user", "content": "Where is my parcel? It was due on Monday."}]})
}

/// A key with a day budget that may use the cascade route only (not the judge route).
async fn key(h: &Harness) -> (String, String) {
    let spec = json!({"team": "support", "allowed_routes": ["answer"],
        "budgets": [{"period": "day", "limit_usd": "10"}]});
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

/// One request as the key; returns the answering tier and the key's spend after it.
async fn asked(h: &Harness, id: &str, secret: &str) -> (String, Decimal) {
    let auth = format!("Bearer {secret}");
    let body = ask().to_string().into_bytes();
    let r = h
        .post_with("/v1/chat/completions", body, &[("authorization", &auth)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let tier = r.header("x-switchyard-cascade-tier").unwrap();
    let spent = h.gateway.key_usage(id).unwrap().budgets[0].spent_usd.0;
    (tier, spent)
}

fn cost(r: &Record) -> Decimal {
    r.cost_usd.map_or(Decimal::ZERO, |c| c.0)
}

fn split(recs: &[Record]) -> (Vec<&Record>, Vec<&Record>) {
    let on = |route: &str| recs.iter().filter(|r| r.route == route).collect::<Vec<_>>();
    (on("answer"), on("judge"))
}

fn assert_judge_record(j: &Record, key_id: &str) {
    assert_eq!(
        j.key_id.as_deref(),
        Some(key_id),
        "attributed to the caller's key"
    );
    assert_eq!(j.team.as_deref(), Some("support"));
    assert!(
        !j.shadow,
        "the client pays: production spend, not evaluation"
    );
    let tagged = |k: &str, v: &str| j.tags.iter().any(|(a, b)| a == k && b == v);
    assert!(tagged("switchyard", "cascade-judge"), "{:?}", j.tags);
    assert!(tagged("cascade", "answer"), "{:?}", j.tags);
}

#[tokio::test]
async fn a_judge_that_passes_the_cheap_tier_keeps_its_answer_and_the_budget_pays_for_the_judge() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    let (id, secret) = key(&h).await;
    let (tier, spent) = asked(&h, &id, &secret).await;
    assert_eq!(tier, "1");
    assert_eq!(h.sim_count("gpt-4.1-mini").await, 1, "one judge call");
    assert_eq!(h.sim_count("gpt-4o").await, 0, "no escalation");

    let recs = h.finish().await;
    let (answer, judge) = split(&recs);
    assert_eq!((answer.len(), judge.len()), (1, 1));
    assert_eq!(answer[0].cascade.as_ref().unwrap().tier, 1);
    assert_eq!(answer[0].attempts.len(), 1);
    assert_judge_record(judge[0], &id);
    assert_eq!(judge[0].status, 200);
    assert!(cost(judge[0]) > Decimal::ZERO, "the judge call is priced");
    assert_eq!(
        spent,
        cost(answer[0]) + cost(judge[0]),
        "the budget pays the tier and its judge"
    );
}

#[tokio::test]
async fn a_judge_that_fails_the_cheap_tier_escalates_and_the_top_tier_is_not_judged() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    h.sim_behaviour("gpt-4.1-mini", &json!({"judge_score": 0.2}))
        .await;
    let (id, secret) = key(&h).await;
    let (tier, spent) = asked(&h, &id, &secret).await;
    assert_eq!(tier, "2");
    assert_eq!(
        h.sim_count("gpt-4.1-mini").await,
        1,
        "the top tier is not judged"
    );
    assert_eq!(h.sim_count("gpt-4o").await, 1);

    let recs = h.finish().await;
    let (answer, judge) = split(&recs);
    assert_eq!((answer.len(), judge.len()), (1, 1));
    let rec = answer[0];
    assert_eq!(rec.cascade.as_ref().unwrap().tier, 2);
    assert_eq!(rec.attempts[0].outcome, AttemptOutcome::Escalated);
    let why = rec.attempts[0].error.as_deref().unwrap();
    assert!(why.contains("judge: 0.20, below 0.7"), "{why}");
    assert_judge_record(judge[0], &id);
    assert_eq!(
        spent,
        cost(rec) + cost(judge[0]),
        "both tiers and the judge"
    );
}

#[tokio::test]
async fn a_judge_route_that_is_down_or_answers_no_verdict_escalates_to_be_safe() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    let (id, secret) = key(&h).await;
    h.sim_behaviour("gpt-4.1-mini", &json!({"error_rate": 1.0}))
        .await;
    let (down_tier, after_down) = asked(&h, &id, &secret).await;
    assert_eq!(down_tier, "2", "a judge that is down escalates");
    // Prose instead of the verdict's JSON object: unreadable, escalated too.
    h.sim_behaviour(
        "gpt-4.1-mini",
        &json!({"error_rate": 0.0, "judge_score": null}),
    )
    .await;
    let (prose_tier, after_prose) = asked(&h, &id, &secret).await;
    assert_eq!(prose_tier, "2", "an unreadable verdict escalates");

    let recs = h.finish().await;
    let (answer, judge) = split(&recs);
    assert_eq!(answer.len(), 2);
    let why = |r: &Record| r.attempts[0].error.clone().unwrap();
    assert!(
        why(answer[0]).contains("no verdict from judge"),
        "{}",
        why(answer[0])
    );
    assert!(
        why(answer[1]).contains("no JSON object"),
        "{}",
        why(answer[1])
    );
    assert_eq!(judge.len(), 2, "both judge calls are in the ledger");
    assert!(
        judge[0].status >= 500,
        "the failed judge call: {}",
        judge[0].status
    );
    assert_eq!(judge[1].status, 200);
    judge.iter().for_each(|j| assert_judge_record(j, &id));
    assert_eq!(after_down, cost(answer[0]) + cost(judge[0]));
    assert_eq!(
        after_prose,
        after_down + cost(answer[1]) + cost(judge[1]),
        "an unreadable verdict was still paid for"
    );
}

/// The budget hold of one slow request on `route`.
async fn hold(h: &Harness, id: &str, secret: &str, route: &str) -> Decimal {
    let url = format!("{}/v1/chat/completions", h.base);
    let auth = format!("Bearer {secret}");
    let mut body = ask();
    body["model"] = json!(route);
    let task = tokio::spawn(async move {
        let client = switchyard_providers::HttpClient::new(&Default::default()).unwrap();
        let headers = [("authorization", auth.as_str())];
        client
            .post_json(&url, &headers, body.to_string())
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
async fn a_cascade_with_a_judge_holds_the_judges_worst_case_on_top_of_its_tiers() {
    let slow = "[defaults]\nttft_ms = 300\ntokens_per_second = 0\n[models.\"gpt-4.1-mini\"]\nttft_ms = 0\njudge_score = 0.9\n";
    let gateway = format!(
        "{GATEWAY}\n[[routes]]\nname = \"unjudged\"\nstrategy = \"cascade\"\ntargets = [{{ provider = \"sim\", model = \"gpt-4o-mini\" }}, {{ provider = \"sim\", model = \"gpt-4o\" }}]\n[[routes.cascade.checks]]\ntype = \"min-length\"\nchars = 1\n"
    );
    let h = start_with(slow, &gateway, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
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
    let v = r.json();
    let (id, secret) = (
        v["key_info"]["id"].as_str().unwrap().to_string(),
        v["key"].as_str().unwrap().to_string(),
    );
    let plain = hold(&h, &id, &secret, "unjudged").await;
    let judged = hold(&h, &id, &secret, "answer").await;
    assert!(plain > Decimal::ZERO, "the request was seen in flight");
    assert!(
        judged > plain,
        "the judged cascade's hold {judged} must exceed the unjudged one's {plain}"
    );
    h.finish().await;
}

#[tokio::test]
async fn a_cascade_whose_top_tier_fails_after_a_judged_escalation_still_charges_what_was_paid() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    h.sim_behaviour("gpt-4.1-mini", &json!({"judge_score": 0.2}))
        .await;
    h.sim_behaviour("gpt-4o", &json!({"error_rate": 1.0})).await;
    let (id, secret) = key(&h).await;
    let auth = format!("Bearer {secret}");
    let body = ask().to_string().into_bytes();
    let r = h
        .post_with("/v1/chat/completions", body, &[("authorization", &auth)])
        .await;
    assert!(r.status >= 500, "{} {}", r.status, r.text());
    let usage = h.gateway.key_usage(&id).unwrap();
    let (spent, held) = (
        usage.budgets[0].spent_usd.0,
        usage.budgets[0].reserved_usd.0,
    );
    let ledger = h.ledger.clone();
    let recs = h.finish().await;
    let (answer, judge) = split(&recs);
    assert_eq!((answer.len(), judge.len()), (1, 1));
    assert!(
        cost(answer[0]) > Decimal::ZERO,
        "the cheap tier's answer was paid for"
    );
    assert_eq!(
        spent,
        cost(answer[0]) + cost(judge[0]),
        "the budget is charged the escalated tier and its judge"
    );
    assert_eq!(held, Decimal::ZERO, "nothing left reserved");
    // Always asking the top tier would have failed too, for nothing: what this cascade paid
    // (the cheap tier and its judge) counts against its saving.
    let mark = answer[0].cascade.as_ref().unwrap();
    assert_eq!(
        (mark.tier, mark.baseline_usd.map(|m| m.0)),
        (2, Some(Decimal::ZERO))
    );
    let (row, lever) = cascade_report(&ledger);
    assert_eq!((row.requests, row.escalated), (1, 1));
    assert_eq!(row.saved_usd().0, -(cost(answer[0]) + cost(judge[0])));
    assert_eq!(lever, row.saved_usd().0);
}

/// The ledger's cascade row for route `answer`, and the cascade lever's saving in the
/// savings report (`ledger summary` and the strategy report print both).
fn cascade_report(ledger: &std::path::Path) -> (switchyard_ledger::CascadeRow, Decimal) {
    use switchyard_ledger::{Lever, Store, Window};
    let store = switchyard_ledger::SqliteStore::open_existing(ledger).unwrap();
    let rows = store.cascade(None).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let catalog = switchyard_catalog::Catalog::bundled().unwrap();
    let report = store
        .savings_report(&catalog, &Window::since(None))
        .unwrap();
    let lever = report
        .savings
        .levers
        .iter()
        .find(|l| l.lever == Lever::Cascade);
    (rows[0].clone(), lever.unwrap().saved_usd.0)
}

/// Issue 12 item 4: the judge checks' calls are requests too (records on the judge route,
/// charged to the caller), and always asking the top tier would need none of them, so the
/// cascade's saving in the ledger is the top tier's price less what the tiers and the judges
/// cost, to the cent.
#[tokio::test]
async fn the_cascade_saving_in_the_ledger_is_net_of_what_its_judges_cost() {
    let h = start_with(SIM, GATEWAY, &[("SWITCHYARD_MASTER_KEY", MASTER)]).await;
    let (id, secret) = key(&h).await;
    let (kept, _) = asked(&h, &id, &secret).await;
    h.sim_behaviour("gpt-4.1-mini", &json!({"judge_score": 0.2}))
        .await;
    let (escalated, spent) = asked(&h, &id, &secret).await;
    assert_eq!((kept.as_str(), escalated.as_str()), ("1", "2"));
    let ledger = h.ledger.clone();
    let recs = h.finish().await;
    let (answer, judge) = split(&recs);
    assert_eq!(
        (answer.len(), judge.len()),
        (2, 2),
        "two judge calls recorded"
    );
    let paid: Decimal = answer.iter().map(|r| cost(r)).sum();
    let judged: Decimal = judge.iter().map(|r| cost(r)).sum();
    assert!(judged > Decimal::ZERO, "the judge calls are priced");
    assert_eq!(
        spent,
        paid + judged,
        "the caller's budget pays for the judges"
    );
    // Each cascade record carries what its judge cost (not in its own cost).
    for (a, j) in answer.iter().zip(&judge) {
        let mark = a.cascade.as_ref().unwrap();
        assert_eq!(
            mark.judged_usd.map(|m| m.0),
            Some(cost(j)),
            "{}",
            a.request_id
        );
    }
    let top: Decimal = answer
        .iter()
        .map(|r| r.cascade.as_ref().unwrap().baseline_usd.unwrap().0)
        .sum();
    let (row, lever) = cascade_report(&ledger);
    assert_eq!((row.requests, row.escalated), (2, 1));
    assert_eq!((row.cost_usd.0, row.judge_usd.0), (paid, judged));
    assert_eq!(row.top_tier_usd.0, top);
    assert_eq!(row.saved_usd().0, top - paid - judged);
    assert_eq!(lever, top - paid - judged, "savings by lever");
}
