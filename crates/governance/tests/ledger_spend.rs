//! Keys and spend in one real ledger file: the ledger writes records, the key store shares the
//! file, and the governor starts from the spend the ledger holds.

use chrono::{DateTime, TimeZone, Utc};
use std::str::FromStr;
use switchyard_governance::{
    Budget, Demand, Denied, Governor, KeySpec, KeyStore, LedgerSpend, Period, SpendSource,
};
use switchyard_ledger::{Record, RecordKind, RecordSink, SqliteStore};
use switchyard_primitives::{Money, TokenUsage};

#[expect(clippy::unwrap_used, reason = "test amounts are literals")]
fn usd(s: &str) -> Money {
    Money::from_str(s).unwrap()
}

fn record(id: &str, ts: DateTime<Utc>, key_id: &str, cost: &str, shadow: bool) -> Record {
    Record {
        request_id: id.into(),
        ts,
        kind: RecordKind::Chat,
        workload: None,
        tags: Vec::new(),
        key_id: Some(key_id.into()),
        team: None,
        route: "chat".into(),
        provider: Some("openai".into()),
        model: Some("gpt-4o-mini".into()),
        attempts: Vec::new(),
        status: 200,
        error_class: None,
        streamed: false,
        shadow,
        features: String::new(),
        usage: TokenUsage::default(),
        cost_usd: Some(usd(cost)),
        price_version: None,
        latency_ms: 1.0,
        ttft_ms: None,
        overhead_us: 1,
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

#[test]
fn governor_starts_from_the_spend_the_ledger_holds() {
    let dir = std::env::temp_dir().join(format!("switchyard-governance-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("ledger.db");
    let mut ledger = SqliteStore::open(&path).unwrap();
    let keys = KeyStore::open(&path).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 15, 30, 0).unwrap();
    let spec = KeySpec {
        budgets: vec![
            Budget {
                period: Period::Day,
                limit_usd: usd("1"),
                hard: true,
            },
            Budget {
                period: Period::Month,
                limit_usd: usd("100"),
                hard: true,
            },
        ],
        ..KeySpec::default()
    };
    let (info, secret) = keys.create(spec, now).unwrap();
    let today = Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 1).unwrap();
    let earlier = Utc.with_ymd_and_hms(2026, 11, 3, 8, 0, 0).unwrap();
    let last_month = Utc.with_ymd_and_hms(2026, 10, 31, 23, 0, 0).unwrap();
    ledger
        .append(&[
            record("r1", today, &info.id, "0.1", false),
            record("r2", now, &info.id, "0.2", false),
            record("r3", now, &info.id, "50", true), // shadow: not the caller's spend
            record("r4", earlier, &info.id, "7", false),
            record("r5", last_month, &info.id, "30", false),
            record("r6", now, "key_other", "9", false),
        ])
        .unwrap();

    let spend = LedgerSpend::open(&path).unwrap();
    // The rollup (whole hours) and the requests table (any instant) agree.
    assert_eq!(
        spend.spent_since(&info.id, Period::Day.start(now)).unwrap(),
        usd("0.3")
    );
    assert_eq!(
        spend
            .spent_since(&info.id, Period::Month.start(now))
            .unwrap(),
        usd("7.3")
    );
    let just_after_midnight = Period::Day.start(now) + chrono::Duration::milliseconds(1);
    assert_eq!(
        spend.spent_since(&info.id, just_after_midnight).unwrap(),
        usd("0.3")
    );
    assert_eq!(spend.spent_since(&info.id, now).unwrap(), usd("0.2"));

    let gov = Governor::new(keys.active().unwrap(), &spend, now).unwrap();
    let key = gov.authenticate(&secret, now).unwrap();
    let usage = gov.snapshot(&info.id, now).unwrap();
    assert_eq!(usage.budgets[0].spent_usd, usd("0.3"));
    assert_eq!(usage.budgets[1].spent_usd, usd("7.3"));
    let worst = |w: &str| Demand {
        prompt_tokens: 0,
        worst_case_usd: usd(w),
    };
    assert!(matches!(
        gov.admit(&key, now, worst("0.71")),
        Err(Denied::Budget {
            period: Period::Day,
            ..
        })
    ));
    assert!(gov.admit(&key, now, worst("0.7")).is_ok());
}
