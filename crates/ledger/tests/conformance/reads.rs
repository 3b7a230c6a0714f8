//! Reading: the strategy engine's history, savings by lever, the cascade report, past spend.

use crate::backend::Backend;
use crate::records::{at, record, usd};
use chrono::NaiveDate;
use switchyard_ledger::{CACHE_EXACT, CascadeMark, Dimension, Lever, RecordSink, SummaryQuery};
use switchyard_primitives::Money;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn history_sums_hours_into_days_and_reads_profiles_from_production_traffic(b: &mut Backend) {
    let mut late = record("b", "support", "0.2", 1);
    late.ts = at(1, 23, 59);
    let mut shadow = record("s", "support", "5", 1);
    shadow.shadow = true;
    shadow.features = "vision".into();
    let mut big = record("c", "support", "0.3", 2);
    big.usage.input = 9_000;
    big.features = "tools".into();
    b.store
        .append(&[record("a", "support", "0.1", 1), late, shadow, big])
        .unwrap();
    let rows = b.store.daily(None).unwrap();
    let got: Vec<(NaiveDate, u64, Money)> =
        rows.iter().map(|r| (r.day, r.requests, r.cost)).collect();
    assert_eq!(got, vec![(day(1), 2, usd("0.3")), (day(2), 1, usd("0.3"))]);
    assert_eq!(rows[0].team, "payments");
    assert_eq!(rows[0].usage.cache_write, 6);
    assert_eq!(b.store.daily(Some(day(2))).unwrap().len(), 1);
    let profiles = b.store.profiles().unwrap();
    let p = &profiles["support"];
    assert_eq!(p.requests, 3);
    assert_eq!(p.feature_requests["tools"], 3);
    assert_eq!(p.feature_requests["json_schema"], 2);
    assert!(
        !p.features.contains("vision"),
        "shadow traffic is not production"
    );
    assert_eq!(p.max_prompt_tokens, 9_013);
}

fn hourly_tokens_fill_hours_without_traffic_with_zero(b: &mut Backend) {
    let mut other = record("b", "support", "0.2", 1);
    other.ts = at(1, 12, 5);
    other.provider = Some("anthropic".into());
    b.store
        .append(&[record("a", "support", "0.1", 1), other])
        .unwrap();
    let all = b.store.hourly_tokens(None, 1).unwrap();
    assert_eq!(all.len(), 24);
    // 10:30 and 12:05: the last hour with traffic ends the window.
    assert_eq!(&all[21..], &[168, 0, 168]);
    let openai = b.store.hourly_tokens(Some("openai"), 1).unwrap();
    assert_eq!(openai.last(), Some(&168));
    assert!(b.store.hourly_tokens(Some("nobody"), 1).unwrap().is_empty());
}

fn repeated_prefixes_count_the_repeats_sent_uncached(b: &mut Backend) {
    let mut rs = Vec::new();
    for i in 0..3 {
        let mut r = record(&format!("p{i}"), "support", "0.1", 7);
        r.usage.cached_input = 0;
        r.usage.cache_write = 0;
        rs.push(r);
    }
    b.store.append(&rs).unwrap();
    let reps = b.store.prefix_repeats(None, false).unwrap();
    assert_eq!(reps.len(), 1);
    assert_eq!((reps[0].requests, reps[0].uncached_repeats), (3, 2));
    assert_eq!(reps[0].uncached_tokens, 3_000);
}

fn savings_count_cache_hits_and_batch_discounts(b: &mut Backend) {
    let mut hit = record("h", "support", "0", 8);
    hit.cache = Some(CACHE_EXACT.into());
    hit.saved_usd = Some(usd("0.4"));
    let mut batch = record("b", "support", "0.5", 8);
    batch.batch = true;
    batch.saved_usd = Some(usd("0.5"));
    b.store
        .append(&[hit, batch, record("a", "support", "1", 8)])
        .unwrap();
    let q = SummaryQuery {
        by: Dimension::Workload,
        since: None,
        include_shadow: false,
    };
    let s = b.store.savings(&q).unwrap();
    assert_eq!(s.spent_usd, usd("1.5"));
    let lever = |l: Lever| s.levers.iter().find(|x| x.lever == l).unwrap().clone();
    assert_eq!(
        (lever(Lever::Cache).requests, lever(Lever::Cache).saved_usd),
        (Some(1), usd("0.4"))
    );
    assert_eq!(lever(Lever::Batch).saved_usd, usd("0.5"));
    assert!(lever(Lever::SemanticCache).measured);
    assert!(lever(Lever::Routing).measured);
    assert_eq!(lever(Lever::Routing).requests, Some(0));
    assert_eq!(s.saved_usd, usd("0.9"));
}

fn the_cascade_report_counts_escalations_and_the_top_tier_cost(b: &mut Backend) {
    let tiered = |id: &str, tier: u32, baseline: Option<&str>| {
        let mut r = record(id, "classify", "0.1", 9);
        r.cascade = Some(CascadeMark {
            tier,
            baseline_usd: baseline.map(usd),
            judged_usd: None,
        });
        r
    };
    b.store
        .append(&[
            tiered("a", 1, Some("1")),
            tiered("b", 2, Some("1")),
            tiered("c", 1, None),
            record("d", "classify", "7", 9),
        ])
        .unwrap();
    let rows = b.store.cascade(None).unwrap();
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r.requests, r.escalated, r.unpriced), (3, 1, 1));
    assert_eq!((r.cost_usd, r.top_tier_usd), (usd("0.3"), usd("2")));
    assert!(b.store.cascade(Some(at(10, 0, 0))).unwrap().is_empty());
}

/// Issue 12 item 4: a `judge` check calls a judge route on each cheap answer; always asking
/// the top tier needs no judge, so what the judges cost comes off the cascade's saving.
fn the_cascade_saving_is_net_of_what_its_judges_cost(b: &mut Backend) {
    let judged = |id: &str, tier: u32, judge: Option<&str>| {
        let mut r = record(id, "classify", "0.1", 9);
        r.cascade = Some(CascadeMark {
            tier,
            baseline_usd: Some(usd("1")),
            judged_usd: judge.map(usd),
        });
        r
    };
    b.store
        .append(&[
            judged("kept", 1, Some("0.02")),
            judged("escalated", 2, Some("0.035")),
            judged("unjudged", 1, None),
        ])
        .unwrap();
    let rows = b.store.cascade(None).unwrap();
    let r = &rows[0];
    assert_eq!(
        (r.cost_usd, r.judge_usd, r.top_tier_usd),
        (usd("0.3"), usd("0.055"), usd("3"))
    );
    // 3 - 0.3 paid - 0.055 judged.
    assert_eq!(r.saved_usd(), usd("2.645"));
    let catalog = switchyard_catalog::Catalog::bundled().unwrap();
    let report = b
        .store
        .savings_report(&catalog, &switchyard_ledger::Window::since(None))
        .unwrap();
    let cascade = report
        .savings
        .levers
        .iter()
        .find(|l| l.lever == Lever::Cascade)
        .unwrap();
    assert_eq!(
        (cascade.requests, cascade.saved_usd),
        (Some(3), usd("2.645"))
    );
    // The mark reads back as written (`ledger export` and copies carry it).
    let mut back = Vec::new();
    b.store
        .scan(None, &mut |r| {
            back.push(r);
            Ok(())
        })
        .unwrap();
    let kept = back.iter().find(|r| r.request_id == "kept").unwrap();
    assert_eq!(kept.cascade.as_ref().unwrap().judged_usd, Some(usd("0.02")));
}

fn spend_is_read_per_key_from_the_hour_or_the_instant_without_shadow(b: &mut Backend) {
    let mut shadow = record("s", "support", "9", 11);
    shadow.shadow = true;
    let mut other = record("o", "support", "7", 11);
    other.key_id = Some("key_b".into());
    let mut early = record("e", "support", "5", 11);
    early.ts = at(11, 10, 10);
    b.store
        .append(&[
            record("a", "support", "0.1", 11),
            record("b", "support", "0.2", 11),
            shadow,
            other,
            early,
        ])
        .unwrap();
    assert_eq!(
        b.store.spent_since("key_a", at(11, 10, 0)).unwrap(),
        usd("5.3")
    );
    assert_eq!(
        b.store.spent_since("key_a", at(11, 10, 20)).unwrap(),
        usd("0.3")
    );
    assert_eq!(
        b.store.spent_since("key_a", at(11, 11, 0)).unwrap(),
        Money::ZERO
    );
    assert_eq!(
        b.store.spent_since("key_z", at(1, 0, 0)).unwrap(),
        Money::ZERO
    );
}

crate::conformance!(
    history_sums_hours_into_days_and_reads_profiles_from_production_traffic,
    hourly_tokens_fill_hours_without_traffic_with_zero,
    repeated_prefixes_count_the_repeats_sent_uncached,
    savings_count_cache_hits_and_batch_discounts,
    the_cascade_report_counts_escalations_and_the_top_tier_cost,
    the_cascade_saving_is_net_of_what_its_judges_cost,
    spend_is_read_per_key_from_the_hour_or_the_instant_without_shadow,
);
