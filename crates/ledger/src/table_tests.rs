use super::*;
use crate::sqlite::tests::record;
use crate::{Fingerprint, Lever, Record, RecordSink, SqliteStore, Store};
use chrono::{NaiveDate, TimeZone, Utc};
use std::str::FromStr;

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, n).unwrap()
}

/// A gpt-4o-mini answer on `route` with fingerprint `fp`, at `hour` on November `d`.
fn asked(id: &str, route: &str, fp: u128, (d, hour): (u32, u32), cost: &str) -> Record {
    let mut r = record(id, "support", "gpt-4o-mini", cost, d);
    r.ts = Utc.with_ymd_and_hms(2026, 11, d, hour, 0, 0).unwrap();
    r.route = route.into();
    r.fingerprint = Some(Fingerprint(fp));
    r.usage.cached_input = 0;
    r
}

fn usd(text: &str) -> Money {
    Money::from_str(text).unwrap()
}

fn store(records: &[Record]) -> SqliteStore {
    let mut s = SqliteStore::in_memory().unwrap();
    s.append(records).unwrap();
    s
}

fn table(s: &SqliteStore, w: &Window, b: &Batchable) -> OnTheTable {
    let catalog = Catalog::bundled().unwrap();
    let caching = crate::prompt_caching::load(s.connection(), &catalog, w).unwrap();
    on_the_table(s.connection(), &catalog, w, b, &caching).unwrap()
}

#[test]
fn uncached_repeats_of_an_earlier_request_on_the_same_route_are_priced_duplicates() {
    let mut hit = asked("hit", "chat", 1, (2, 11), "0");
    hit.cache = Some(crate::CACHE_EXACT.into());
    let mut shadow = asked("shadow", "chat", 1, (2, 12), "5");
    shadow.shadow = true;
    let mut failed = asked("failed", "chat", 1, (2, 13), "0.5");
    failed.status = 502;
    let s = store(&[
        asked("first", "chat", 1, (2, 10), "0.25"),
        asked("again", "chat", 1, (2, 14), "0.25"),
        hit,
        shadow,
        failed,
        // The same question on another route is not a duplicate of this one.
        asked("other", "faq", 1, (2, 15), "0.25"),
        // A different question.
        asked("new", "chat", 2, (2, 16), "0.25"),
        // More than a day after the last answer: no cache would still hold it.
        asked("late", "chat", 1, (4, 15), "0.25"),
    ]);
    let t = table(&s, &Window::since(None), &Batchable::default());
    let chat = t
        .duplicate_routes
        .iter()
        .find(|d| d.route == "chat")
        .unwrap();
    assert_eq!((chat.requests, chat.duplicates), (6, 1), "{chat:?}");
    assert_eq!(chat.cost_usd, usd("0.25"));
    assert_eq!(chat.share, Decimal::ONE / Decimal::from(6));
    let faq = t
        .duplicate_routes
        .iter()
        .find(|d| d.route == "faq")
        .unwrap();
    assert_eq!(faq.duplicates, 0);
    assert_eq!((t.requests, t.duplicates), (7, 1));
    assert_eq!(t.duplicates_usd, usd("0.25"));
    assert_eq!(
        t.total_usd,
        t.duplicates_usd + t.prefixes_usd + t.batchable_usd
    );
}

#[test]
fn a_duplicate_counts_in_the_period_it_was_sent_whatever_the_period_of_its_twin() {
    let s = store(&[
        asked("first", "chat", 7, (2, 23), "0.1"),
        asked("twin", "chat", 7, (3, 1), "0.1"),
    ]);
    let before = table(&s, &Window::between(day(1), day(3)), &Batchable::default());
    assert_eq!(before.duplicates, 0);
    let after = table(&s, &Window::between(day(3), day(4)), &Batchable::default());
    assert_eq!((after.requests, after.duplicates), (1, 1));
    assert_eq!(after.duplicate_share, Decimal::ONE);
}

#[test]
fn batchable_spend_is_priced_at_the_catalog_discount_less_what_a_batch_api_discounted() {
    let mut native = asked("native", "nightly", 10, (2, 1), "0.5");
    native.workload = Some("summaries".into());
    native.batch = true;
    native.saved_usd = Some(Money::from_str("0.5").unwrap());
    let mut piped = asked("piped", "nightly", 11, (2, 2), "1");
    piped.workload = Some("summaries".into());
    piped.batch = true;
    let mut shadow = piped.clone();
    shadow.request_id = "shadow".into();
    shadow.shadow = true;
    let reports = asked("reports", "reports", 12, (2, 3), "2");
    let mut unpriced = asked("unpriced", "reports", 13, (2, 4), "3");
    unpriced.model = Some("no-such-model".into());
    let live = asked("live", "chat", 14, (2, 5), "4");
    let s = store(&[native, piped, shadow, reports, unpriced, live]);
    let config = Batchable {
        routes: ["reports".to_string()].into(),
        workloads: BTreeSet::new(),
    };
    let t = table(&s, &Window::since(None), &config);
    let summaries = t
        .batchable
        .iter()
        .find(|b| b.workload == "summaries")
        .unwrap();
    assert_eq!(summaries.why, "sent via /v1/batches");
    assert_eq!(
        summaries.spend_usd,
        usd("1"),
        "the discounted line is left out"
    );
    assert_eq!(summaries.saving_usd, usd("0.5"));
    // `reports` and `live` share the workload `support`; only the batchable route's spend counts.
    let support = t
        .batchable
        .iter()
        .find(|b| b.workload == "support")
        .unwrap();
    assert_eq!(support.why, "route reports configured batchable");
    assert_eq!(support.spend_usd, usd("5"));
    assert_eq!(support.saving_usd, usd("1"));
    assert_eq!(support.no_discount_usd, usd("3"));
    assert_eq!(t.batchable_usd, usd("1.5"));
    let none = table(&s, &Window::between(day(3), day(4)), &Batchable::default());
    assert!(none.batchable.is_empty(), "{:?}", none.batchable);
}

#[test]
fn repeated_prefixes_on_the_table_are_the_prompt_caching_misses() {
    let prefixed = |id: &str, minute: u32| {
        let mut r = asked(id, "chat", 0, (2, 9), "0.01");
        r.ts = Utc.with_ymd_and_hms(2026, 11, 2, 9, minute, 0).unwrap();
        r.usage.cached_input = 0;
        r.prefix = Some(crate::PromptPrefix {
            hash: 5,
            tokens: 1_000_000,
        });
        r
    };
    let s = store(&[prefixed("p1", 1), prefixed("p2", 2), prefixed("p3", 3)]);
    let t = table(&s, &Window::since(None), &Batchable::default());
    let line = t.prefixes.iter().find(|p| p.workload == "support").unwrap();
    assert_eq!(
        (line.uncached_repeats, line.uncached_tokens),
        (2, 2_000_000)
    );
    // gpt-4o-mini: input 0.15, cached 0.075 per million: 0.075 saved per million repeated.
    assert_eq!(line.missed_usd, usd("0.150"));
    assert_eq!(t.prefixes_usd, line.missed_usd);
}

#[test]
fn the_savings_report_nets_prompt_caching_and_adds_cascade_within_its_window() {
    let mut read = asked("read", "review", 20, (2, 9), "0.1");
    read.model = Some("claude-sonnet-4-5".into());
    read.provider = Some("anthropic".into());
    read.usage.cached_input = 1_000_000;
    read.usage.cache_write = 100_000;
    let mut cascaded = asked("cascaded", "classify", 21, (2, 10), "0.01");
    cascaded.cascade = Some(crate::CascadeMark {
        tier: 1,
        baseline_usd: Some(Money::from_str("0.11").unwrap()),
        judged_usd: None,
    });
    let mut outside = cascaded.clone();
    outside.request_id = "outside".into();
    outside.ts = Utc.with_ymd_and_hms(2026, 11, 5, 10, 0, 0).unwrap();
    let s = store(&[read, cascaded, outside]);
    let catalog = Catalog::bundled().unwrap();
    let w = Window::between(day(1), day(3));
    let r = s.savings_report(&catalog, &w).unwrap();
    let lever = |l: Lever| r.savings.levers.iter().find(|x| x.lever == l).unwrap();
    // Reads: 1M × (3.00 − 0.30) = 2.70; writes: 0.1M × (3.75 − 3.00) = 0.075.
    assert_eq!(lever(Lever::PromptCaching).saved_usd, usd("2.625"));
    assert_eq!(
        lever(Lever::Cascade).requests,
        Some(1),
        "the later request is outside"
    );
    assert_eq!(lever(Lever::Cascade).saved_usd, usd("0.10"));
    assert!(
        lever(Lever::Routing).measured,
        "a window without routed requests: zero"
    );
    assert_eq!(lever(Lever::Routing).requests, Some(0));
    assert_eq!(r.savings.saved_usd, usd("2.725"));
    assert_eq!(r.savings.spent_usd, usd("0.11"));
}

#[test]
fn levers_cover_the_last_30_days_and_the_30_before() {
    let mut hit = asked("hit", "chat", 30, (20, 9), "0");
    hit.cache = Some(crate::CACHE_EXACT.into());
    hit.saved_usd = Some(Money::from_str("0.2").unwrap());
    let mut old_hit = hit.clone();
    old_hit.request_id = "old".into();
    old_hit.ts = Utc.with_ymd_and_hms(2026, 10, 10, 9, 0, 0).unwrap();
    let s = store(&[hit, old_hit]);
    let catalog = Catalog::bundled().unwrap();
    let l = s.levers(&catalog, day(30), &Batchable::default()).unwrap();
    assert_eq!(l.periods.len(), 2);
    let cache = |p: &crate::PeriodSavings| {
        p.savings
            .levers
            .iter()
            .find(|x| x.lever == Lever::Cache)
            .map(|x| (x.requests, x.saved_usd.to_string()))
    };
    assert_eq!(cache(&l.periods[0]), Some((Some(1), "0.2".into())));
    assert_eq!(cache(&l.periods[1]), Some((Some(1), "0.2".into())));
    assert_eq!(
        l.periods[0].window.until,
        Some(day(30) + chrono::Duration::days(1))
    );
    assert_eq!(l.on_the_table.window, l.periods[0].window);
}
