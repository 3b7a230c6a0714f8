//! The savings ledger on both backends: every lever, prompt caching, the cascade section and
//! "still on the table" from the same records, with the figures checked per backend and the
//! two backends' reports compared whole.

use crate::backend::Backend;
use crate::records::{at, record, usd};
use chrono::NaiveDate;
use std::collections::BTreeSet;
use switchyard_catalog::Catalog;
use switchyard_ledger::{
    Batchable, CACHE_EXACT, CACHE_SEMANTIC, CascadeMark, Fingerprint, Lever, Levers, OnTheTable,
    Record, SavingsReport, Store, Window,
};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

/// A request on `route` asking question `fp` at `hour` on November `d`.
fn asked(id: &str, route: &str, fp: u128, (d, hour): (u32, u32), cost: &str) -> Record {
    let mut r = record(id, "support", cost, d);
    r.ts = at(d, hour, 0);
    r.route = route.into();
    r.fingerprint = Some(Fingerprint(fp));
    r
}

/// A record without a request fingerprint (so only `asked` ones can be duplicates).
fn plain(id: &str, w: &str, cost: &str, d: u32) -> Record {
    let mut r = record(id, w, cost, d);
    r.fingerprint = None;
    r
}

/// One of every kind the savings ledger reads: cache hits of both kinds, a batch line a
/// provider discounted and one it did not, cascade requests, routed requests (one cheaper
/// than the baseline, one dearer), duplicates, repeated prefixes, shadow traffic.
pub fn mixed() -> Vec<Record> {
    let mut out = vec![
        asked("first", "chat", 1, (2, 10), "0.25"),
        asked("again", "chat", 1, (2, 14), "0.25"),
        asked("other", "faq", 1, (2, 15), "0.25"),
        asked("late", "chat", 1, (4, 15), "0.25"),
    ];
    let mut hit = asked("hit", "chat", 1, (2, 11), "0");
    hit.cache = Some(CACHE_EXACT.into());
    hit.saved_usd = Some(usd("0.25"));
    hit.fingerprint = None;
    let mut near = plain("near", "support", "0", 3);
    near.cache = Some(CACHE_SEMANTIC.into());
    near.saved_usd = Some(usd("0.125"));
    near.route = "faq".into();
    let mut native = plain("native", "nightly", "0.5", 3);
    native.batch = true;
    native.saved_usd = Some(usd("0.5"));
    native.route = "summaries".into();
    let mut listed = plain("listed", "nightly", "1", 3);
    listed.batch = true;
    listed.route = "summaries".into();
    let tiered = |id: &str, tier: u32, baseline: Option<&str>| {
        let mut r = plain(id, "classify", "0.1", 5);
        r.route = "triage".into();
        r.cascade = Some(CascadeMark {
            tier,
            baseline_usd: baseline.map(usd),
            // The escalated request's cheap answer was judged (and failed).
            judged_usd: (tier > 1).then(|| usd("0.05")),
        });
        r
    };
    let routed = |id: &str, cost: &str, baseline: &str| {
        let mut r = plain(id, "extract", cost, 6);
        r.route = "cheap".into();
        r.routing_baseline_usd = Some(usd(baseline));
        r
    };
    let mut shadow = routed("shadow-routed", "0.01", "9");
    shadow.shadow = true;
    out.extend([
        hit,
        near,
        native,
        listed,
        tiered("t1", 1, Some("1")),
        tiered("t2", 2, Some("1")),
        tiered("t3", 1, None),
        routed("r1", "0.01", "0.04"),
        routed("r2", "0.03", "0.02"),
        shadow,
    ]);
    // Repeated prefixes never served from the cache.
    for i in 0..3 {
        let mut r = plain(&format!("p{i}"), "review", "0.1", 7);
        r.usage.cached_input = 0;
        r.usage.cache_write = 0;
        out.push(r);
    }
    out
}

fn batchable() -> Batchable {
    Batchable {
        routes: BTreeSet::from(["cheap".to_string()]),
        workloads: BTreeSet::new(),
    }
}

/// The three reports the CLI, the strategy report and the API print.
pub fn reports(store: &dyn Store) -> (SavingsReport, OnTheTable, Levers) {
    let catalog = Catalog::bundled().unwrap();
    let w = Window::since(None);
    let report = store.savings_report(&catalog, &w).unwrap();
    let table = store
        .on_the_table(&catalog, &w, &batchable(), &report.prompt_caching)
        .unwrap();
    let levers = store.levers(&catalog, day(20), &batchable()).unwrap();
    (report, table, levers)
}

fn every_lever_is_measured_from_the_same_records(b: &mut Backend) {
    b.store.append(&mixed()).unwrap();
    let (report, table, levers) = reports(b.store.as_ref());
    let s = &report.savings;
    let lever = |l: Lever| s.levers.iter().find(|x| x.lever == l).unwrap().clone();
    assert!(s.levers.iter().all(|l| l.measured && l.note.is_none()));
    assert_eq!(lever(Lever::Cache).saved_usd, usd("0.25"));
    assert_eq!(lever(Lever::SemanticCache).saved_usd, usd("0.125"));
    assert_eq!(lever(Lever::Batch).requests, Some(1));
    // Cascade: three requests at 0.1 against a top tier of 2 (one unpriced), less one
    // judge call at 0.05.
    assert_eq!(
        (
            lever(Lever::Cascade).requests,
            lever(Lever::Cascade).saved_usd
        ),
        (Some(3), usd("1.65"))
    );
    assert_eq!(report.cascade[0].judge_usd, usd("0.05"));
    // Routing: (0.04 - 0.01) + (0.02 - 0.03), the dearer pick counted against; shadow out.
    assert_eq!(
        (
            lever(Lever::Routing).requests,
            lever(Lever::Routing).saved_usd
        ),
        (Some(2), usd("0.02"))
    );
    assert!(lever(Lever::PromptCaching).saved_usd > switchyard_primitives::Money::ZERO);
    assert_eq!(report.cascade.len(), 1);
    // Still on the table: `again` repeats `first` within a day on `chat`; `late` is too late.
    let chat = table
        .duplicate_routes
        .iter()
        .find(|d| d.route == "chat")
        .unwrap();
    assert_eq!((chat.requests, chat.duplicates), (4, 1));
    assert_eq!(table.duplicates_usd, usd("0.25"));
    assert!(table.prefixes.iter().any(|p| p.workload == "review"));
    let why: Vec<&str> = table.batchable.iter().map(|l| l.why.as_str()).collect();
    assert!(why.contains(&"sent via /v1/batches"), "{why:?}");
    assert!(why.contains(&"route cheap configured batchable"), "{why:?}");
    assert_eq!(levers.periods.len(), 2);
    assert_eq!(levers.periods[0].savings, report.savings);
    assert!(levers.periods[1].savings.spent_usd.is_zero());
    // A window that ends before the routed day leaves the routing lever empty.
    let before = Window::between(day(1), day(6));
    let catalog = Catalog::bundled().unwrap();
    let early = b.store.savings_report(&catalog, &before).unwrap();
    let routing = early
        .savings
        .levers
        .iter()
        .find(|l| l.lever == Lever::Routing);
    assert_eq!(routing.unwrap().requests, Some(0));
}

crate::conformance!(every_lever_is_measured_from_the_same_records);

/// Same records on both backends: the same reports, field for field.
#[test]
fn sqlite_and_postgres_report_the_same_savings_for_the_same_records() {
    let Some(mut pg) = Backend::postgres() else {
        return;
    };
    let mut lite = Backend::sqlite();
    // Two batches, so the PostgreSQL upserts add to cells the first one created.
    let all = mixed();
    let (a, b) = all.split_at(7);
    for backend in [&mut lite, &mut pg] {
        backend.store.append(a).unwrap();
        backend.store.append(b).unwrap();
    }
    let (l, p) = (reports(lite.store.as_ref()), reports(pg.store.as_ref()));
    assert_eq!(l.0, p.0, "savings report");
    assert_eq!(l.1, p.1, "still on the table");
    assert_eq!(l.2, p.2, "the strategy report's levers");
    assert_eq!(
        serde_json::to_string(&l.2).unwrap(),
        serde_json::to_string(&p.2).unwrap(),
        "the JSON the API serves"
    );
}
