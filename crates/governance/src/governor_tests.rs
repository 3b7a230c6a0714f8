use super::*;
use crate::{AuthError, Budget, KeyInfo, KeySpec, SpendError, SpendSource, hash_hex};
use chrono::{TimeDelta, TimeZone};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;

fn usd(s: &str) -> Money {
    Money::from_str(s).unwrap()
}

/// Friday 2026-11-27 12:00 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

/// Past spend by (key, period start).
#[derive(Default)]
struct FakeSpend(HashMap<(String, DateTime<Utc>), Money>);

impl SpendSource for FakeSpend {
    fn spent_since(&self, key_id: &str, since: DateTime<Utc>) -> Result<Money, SpendError> {
        Ok(self
            .0
            .get(&(key_id.to_string(), since))
            .copied()
            .unwrap_or_default())
    }
}

fn budget(period: Period, limit: &str, hard: bool) -> Budget {
    Budget {
        period,
        limit_usd: usd(limit),
        hard,
    }
}

fn key(id: &str, spec: KeySpec) -> (String, KeyInfo) {
    let info = KeyInfo {
        id: id.into(),
        prefix: "sk-sy-test".into(),
        spec,
        created_at: t0(),
        rotated_at: None,
        revoked_at: None,
    };
    (hash_hex(&secret(id)), info)
}

fn secret(id: &str) -> String {
    format!("sk-sy-secret-of-{id}")
}

fn one(spec: KeySpec) -> (Governor, Arc<KeyHandle>) {
    let gov = Governor::new(vec![key("key_a", spec)], &FakeSpend::default(), t0()).unwrap();
    let handle = gov.authenticate(&secret("key_a"), t0()).unwrap();
    (gov, handle)
}

fn demand(worst: &str) -> Demand {
    Demand {
        prompt_tokens: 0,
        worst_case_usd: usd(worst),
    }
}

#[test]
fn authentication_distinguishes_missing_invalid_expired_and_valid() {
    let expiring = KeySpec {
        expires_at: Some(t0() + TimeDelta::hours(1)),
        ..KeySpec::default()
    };
    let gov = Governor::new(
        vec![key("key_a", KeySpec::default()), key("key_b", expiring)],
        &FakeSpend::default(),
        t0(),
    )
    .unwrap();
    assert!(gov.is_enforcing());
    assert_eq!(
        gov.authenticate("  ", t0()).unwrap_err(),
        AuthError::Missing
    );
    assert_eq!(
        gov.authenticate("sk-proj-openai", t0()).unwrap_err(),
        AuthError::Invalid
    );
    assert_eq!(
        gov.authenticate("sk-sy-nope", t0()).unwrap_err(),
        AuthError::Invalid
    );
    assert_eq!(
        gov.authenticate(&secret("key_a"), t0()).unwrap().id(),
        "key_a"
    );
    assert!(gov.authenticate(&secret("key_b"), t0()).is_ok());
    let at = t0() + TimeDelta::hours(1);
    assert_eq!(
        gov.authenticate(&secret("key_b"), at).unwrap_err(),
        AuthError::Expired { at }
    );
    let empty = Governor::new(Vec::new(), &FakeSpend::default(), t0()).unwrap();
    assert!(!empty.is_enforcing());
}

#[test]
fn route_allow_list_is_enforced_and_empty_means_all() {
    let (_, open) = one(KeySpec::default());
    assert!(open.allows_route("anything"));
    let (_, narrow) = one(KeySpec {
        allowed_routes: vec!["chat".into()],
        ..KeySpec::default()
    });
    assert!(narrow.allows_route("chat"));
    assert!(!narrow.allows_route("chat-premium"));
}

#[test]
fn hard_budget_refuses_until_the_next_period_and_resets_at_rollover() {
    let (gov, k) = one(KeySpec {
        budgets: vec![budget(Period::Day, "1", true)],
        ..KeySpec::default()
    });
    let a = gov.admit(&k, t0(), demand("0.6")).unwrap();
    assert_eq!(a.remaining_budget_usd, Some(usd("0.4")));
    // 0.6 held + 0.6 more > 1: refused while the first is in flight.
    let err = gov.admit(&k, t0(), demand("0.6")).unwrap_err();
    let midnight = Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap();
    assert_eq!(
        err,
        Denied::Budget {
            period: Period::Day,
            limit: usd("1"),
            spent: Money::ZERO,
            reserved: usd("0.6"),
            resets_at: midnight,
            retry_after: Duration::from_secs(12 * 3600),
        }
    );
    a.reservation.settle(usd("0.5"), 10, t0());
    // 0.5 spent: 0.5 more fits exactly, 0.5000001 does not.
    assert!(gov.admit(&k, t0(), demand("0.5000001")).is_err());
    let b = gov.admit(&k, t0(), demand("0.5")).unwrap();
    assert_eq!(b.remaining_budget_usd, Some(Money::ZERO));
    b.reservation.settle(usd("0.5"), 10, t0());
    assert!(
        gov.admit(&k, midnight - TimeDelta::nanoseconds(1), demand("0.01"))
            .is_err()
    );
    // A new day starts from zero.
    let c = gov.admit(&k, midnight, demand("1")).unwrap();
    drop(c);
    let usage = gov.snapshot("key_a", midnight).unwrap();
    assert_eq!(usage.budgets[0].spent_usd, Money::ZERO);
}

#[test]
fn soft_budget_warns_but_admits() {
    let spec = KeySpec {
        budgets: vec![budget(Period::Month, "1", false)],
        ..KeySpec::default()
    };
    let (gov, k) = one(spec);
    let first = gov.admit(&k, t0(), demand("0.8")).unwrap();
    assert!(first.warnings.is_empty());
    first.reservation.settle(usd("0.8"), 0, t0());
    let second = gov.admit(&k, t0(), demand("0.8")).unwrap();
    assert_eq!(second.warnings.len(), 1);
    assert!(
        second.warnings[0].contains("soft month budget of $1 exceeded"),
        "{:?}",
        second.warnings
    );
    assert_eq!(second.remaining_budget_usd, Some(Money::ZERO));
    second.reservation.settle(usd("0.8"), 0, t0());
    let usage = gov.snapshot("key_a", t0()).unwrap();
    assert_eq!(usage.budgets[0].spent_usd, usd("1.6"));
}

#[test]
fn dropped_reservation_releases_its_hold_and_charges_nothing() {
    let (gov, k) = one(KeySpec {
        budgets: vec![budget(Period::Week, "1", true)],
        ..KeySpec::default()
    });
    let a = gov.admit(&k, t0(), demand("1")).unwrap();
    assert_eq!(
        gov.snapshot("key_a", t0()).unwrap().budgets[0].reserved_usd,
        usd("1")
    );
    drop(a);
    let usage = gov.snapshot("key_a", t0()).unwrap();
    assert_eq!(usage.budgets[0].reserved_usd, Money::ZERO);
    assert_eq!(usage.budgets[0].spent_usd, Money::ZERO);
    assert!(gov.admit(&k, t0(), demand("1")).is_ok());
}

#[test]
fn spend_settled_after_rollover_counts_in_the_new_period() {
    let spec = KeySpec {
        budgets: vec![
            budget(Period::Day, "10", true),
            budget(Period::Month, "100", true),
        ],
        ..KeySpec::default()
    };
    let (gov, k) = one(spec);
    let late = Utc.with_ymd_and_hms(2026, 11, 27, 23, 59, 59).unwrap();
    let a = gov.admit(&k, late, demand("2")).unwrap();
    let next_day = late + TimeDelta::seconds(2);
    a.reservation.settle(usd("1.5"), 0, next_day);
    let usage = gov.snapshot("key_a", next_day).unwrap();
    assert_eq!(usage.budgets[0].spent_usd, usd("1.5"));
    assert_eq!(usage.budgets[0].reserved_usd, Money::ZERO);
    assert_eq!(usage.budgets[1].spent_usd, usd("1.5"));
    assert_eq!(
        usage.budgets[0].resets_at,
        Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap()
    );
    // Into December: the month counter resets too.
    let december = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    assert_eq!(
        gov.snapshot("key_a", december).unwrap().budgets[1].spent_usd,
        Money::ZERO
    );
}

#[test]
fn past_spend_is_loaded_per_period_and_the_budget_resetting_last_is_reported() {
    let mut spend = FakeSpend::default();
    let week_start = Period::Week.start(t0());
    spend.0.insert(("key_a".into(), week_start), usd("9.5"));
    spend
        .0
        .insert(("key_a".into(), Period::Day.start(t0())), usd("2"));
    let spec = KeySpec {
        budgets: vec![
            budget(Period::Day, "2.5", true),
            budget(Period::Week, "10", true),
        ],
        ..KeySpec::default()
    };
    let gov = Governor::new(vec![key("key_a", spec)], &spend, t0()).unwrap();
    let k = gov.key("key_a").unwrap();
    let ok = gov.admit(&k, t0(), demand("0.25")).unwrap();
    assert_eq!(ok.remaining_budget_usd, Some(usd("0.25")));
    match gov.admit(&k, t0(), demand("0.5")).unwrap_err() {
        Denied::Budget {
            period,
            spent,
            resets_at,
            ..
        } => {
            assert_eq!(period, Period::Week);
            assert_eq!(spent, usd("9.5"));
            assert_eq!(resets_at, Period::Week.next_start(t0()));
        }
        other => panic!("expected a budget denial, got {other:?}"),
    }
}

#[test]
fn rpm_refuses_with_the_time_until_a_slot_frees_and_counts_nothing_when_refused() {
    let spec = KeySpec {
        rpm: Some(2),
        budgets: vec![budget(Period::Day, "1", true)],
        ..KeySpec::default()
    };
    let (gov, k) = one(spec);
    let a = gov.admit(&k, t0(), demand("0.1")).unwrap();
    assert_eq!(a.remaining_requests, Some(1));
    let b = gov
        .admit(&k, t0() + TimeDelta::seconds(10), demand("0.1"))
        .unwrap();
    assert_eq!(b.remaining_requests, Some(0));
    let err = gov
        .admit(&k, t0() + TimeDelta::seconds(10), demand("0.1"))
        .unwrap_err();
    assert_eq!(
        err,
        Denied::RateLimited {
            limit: RateLimit::Requests,
            max: 2,
            retry_after: Duration::from_secs(20)
        }
    );
    assert_eq!(
        gov.snapshot("key_a", t0()).unwrap().budgets[0].reserved_usd,
        usd("0.2")
    );
    assert!(
        gov.admit(&k, t0() + TimeDelta::seconds(30), demand("0.1"))
            .is_ok()
    );
}

#[test]
fn tpm_counts_settled_tokens_for_sixty_seconds() {
    let (gov, k) = one(KeySpec {
        tpm: Some(1000),
        ..KeySpec::default()
    });
    let d = |prompt| Demand {
        prompt_tokens: prompt,
        worst_case_usd: Money::ZERO,
    };
    let a = gov.admit(&k, t0(), d(300)).unwrap();
    assert_eq!(a.remaining_tokens, Some(700));
    a.reservation
        .settle(Money::ZERO, 800, t0() + TimeDelta::seconds(5));
    let err = gov
        .admit(&k, t0() + TimeDelta::seconds(20), d(300))
        .unwrap_err();
    assert_eq!(
        err,
        Denied::RateLimited {
            limit: RateLimit::Tokens,
            max: 1000,
            retry_after: Duration::from_secs(45)
        }
    );
    assert!(gov.admit(&k, t0() + TimeDelta::seconds(20), d(200)).is_ok());
    assert_eq!(
        gov.admit(&k, t0(), d(1001)).unwrap_err(),
        Denied::TooLarge {
            prompt_tokens: 1001,
            tpm: 1000
        }
    );
    assert_eq!(
        gov.snapshot("key_a", t0() + TimeDelta::seconds(65))
            .unwrap()
            .tokens_remaining,
        Some(1000)
    );
}

#[test]
fn reload_keeps_counters_by_id_across_rotation_and_loads_new_budgets() {
    let spec = KeySpec {
        budgets: vec![budget(Period::Day, "1", true)],
        ..KeySpec::default()
    };
    let (gov, k) = one(spec.clone());
    let held = gov.admit(&k, t0(), demand("0.3")).unwrap();
    gov.admit(&k, t0(), demand("0.4"))
        .unwrap()
        .reservation
        .settle(usd("0.4"), 0, t0());
    // Rotated (new hash), and given a weekly budget whose past spend the ledger knows.
    let mut spend = FakeSpend::default();
    spend
        .0
        .insert(("key_a".into(), Period::Week.start(t0())), usd("3"));
    let (_, info) = key(
        "key_a",
        KeySpec {
            budgets: vec![
                budget(Period::Day, "1", true),
                budget(Period::Week, "5", true),
            ],
            ..spec
        },
    );
    gov.replace_keys(vec![(hash_hex("sk-sy-rotated"), info)], &spend, t0())
        .unwrap();
    assert_eq!(
        gov.authenticate(&secret("key_a"), t0()).unwrap_err(),
        AuthError::Invalid
    );
    let k2 = gov.authenticate("sk-sy-rotated", t0()).unwrap();
    let usage = gov.snapshot("key_a", t0()).unwrap();
    assert_eq!(usage.budgets[0].spent_usd, usd("0.4"));
    assert_eq!(usage.budgets[0].reserved_usd, usd("0.3"));
    assert_eq!(usage.budgets[1].spent_usd, usd("3"));
    // The old reservation still settles into the shared counters.
    held.reservation.settle(usd("0.3"), 0, t0());
    assert_eq!(
        gov.snapshot("key_a", t0()).unwrap().budgets[0].spent_usd,
        usd("0.7")
    );
    assert!(gov.admit(&k2, t0(), demand("0.31")).is_err());
    // Removing the key forgets it.
    gov.replace_keys(Vec::new(), &spend, t0()).unwrap();
    assert!(gov.snapshot("key_a", t0()).is_none());
    assert!(!gov.is_enforcing());
}

/// 100 threads race for one hard budget; each request settles at or below its worst case.
#[test]
fn concurrent_admissions_never_overrun_a_hard_budget() {
    let limit = usd("10");
    let worst = usd("0.07");
    let spec = KeySpec {
        budgets: vec![budget(Period::Day, "10", true)],
        ..KeySpec::default()
    };
    let (gov, k) = one(spec);
    let settled_total = Mutex::new(Money::ZERO);
    let (admitted, denied) = (
        std::sync::atomic::AtomicU64::new(0),
        std::sync::atomic::AtomicU64::new(0),
    );
    std::thread::scope(|s| {
        for t in 0..100u32 {
            let (gov, k, settled_total) = (&gov, &k, &settled_total);
            let (admitted, denied) = (&admitted, &denied);
            s.spawn(move || {
                for i in 0..40u32 {
                    let Ok(a) = gov.admit(
                        k,
                        t0(),
                        Demand {
                            prompt_tokens: 0,
                            worst_case_usd: worst,
                        },
                    ) else {
                        denied.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        continue;
                    };
                    admitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let usage = gov.snapshot("key_a", t0()).unwrap();
                    let b = &usage.budgets[0];
                    assert!(b.spent_usd + b.reserved_usd <= limit, "overrun: {b:?}");
                    // Actual cost: the worst case, a fraction of it, or nothing (dropped).
                    let actual = match (t + i) % 3 {
                        0 => worst,
                        1 => worst * rust_decimal::Decimal::new(5, 1),
                        _ => {
                            drop(a);
                            continue;
                        }
                    };
                    *settled_total.lock().unwrap() += actual;
                    a.reservation.settle(actual, 0, t0());
                }
            });
        }
    });
    let usage = gov.snapshot("key_a", t0()).unwrap();
    let b = &usage.budgets[0];
    let settled = *settled_total.lock().unwrap();
    assert_eq!(b.reserved_usd, Money::ZERO);
    assert_eq!(b.spent_usd, settled);
    assert!(settled <= limit, "settled {settled} > {limit}");
    // The budget was actually contended: most attempts were refused once it filled up.
    assert!(denied.into_inner() > 0);
    assert!(
        admitted.into_inner() >= 143,
        "at least 10 / 0.07 requests fit"
    );
    // And the counters agree with a fresh admission: one more fits exactly when room is left.
    let room = limit - settled >= worst;
    assert_eq!(gov.admit(&k, t0(), demand("0.07")).is_ok(), room);
}

#[test]
fn a_budget_refusal_consumes_no_rate_limit_and_holds_nothing() {
    let spec = KeySpec {
        rpm: Some(1),
        tpm: Some(100),
        budgets: vec![budget(Period::Day, "1", true)],
        ..KeySpec::default()
    };
    let (gov, k) = one(spec);
    let big = Demand {
        prompt_tokens: 50,
        worst_case_usd: usd("2"),
    };
    assert!(matches!(
        gov.admit(&k, t0(), big),
        Err(Denied::Budget { .. })
    ));
    let usage = gov.snapshot("key_a", t0()).unwrap();
    assert_eq!(usage.requests_remaining, Some(1));
    assert_eq!(usage.tokens_remaining, Some(100));
    assert_eq!(usage.budgets[0].reserved_usd, Money::ZERO);
    let ok = gov
        .admit(
            &k,
            t0(),
            Demand {
                prompt_tokens: 50,
                worst_case_usd: usd("1"),
            },
        )
        .unwrap();
    assert_eq!(
        (ok.remaining_requests, ok.remaining_tokens),
        (Some(0), Some(50))
    );
}

#[test]
fn handles_and_reservations_cross_threads() {
    fn send_sync_static<T: Send + Sync + 'static>() {}
    fn send_static<T: Send + 'static>() {}
    send_sync_static::<Governor>();
    send_sync_static::<Arc<KeyHandle>>();
    send_static::<Reservation>();
    // A reservation settled on another thread lands in the key's counters.
    let (gov, k) = one(KeySpec {
        budgets: vec![budget(Period::Day, "1", true)],
        ..KeySpec::default()
    });
    let a = gov.admit(&k, t0(), demand("0.5")).unwrap();
    std::thread::spawn(move || a.reservation.settle(usd("0.25"), 0, t0()))
        .join()
        .unwrap();
    assert_eq!(
        gov.snapshot("key_a", t0()).unwrap().budgets[0].spent_usd,
        usd("0.25")
    );
}

#[test]
fn token_headroom_is_what_the_tpm_window_can_still_take() {
    let (gov, k) = one(KeySpec {
        tpm: Some(1000),
        ..KeySpec::default()
    });
    assert_eq!(k.token_headroom(t0()), Some(1000));
    let d = Demand {
        prompt_tokens: 300,
        worst_case_usd: Money::ZERO,
    };
    let a = gov.admit(&k, t0(), d).unwrap();
    assert_eq!(k.token_headroom(t0()), Some(700), "in flight counts");
    a.reservation.settle(Money::ZERO, 450, t0());
    assert_eq!(
        k.token_headroom(t0()),
        Some(550),
        "settled replaces in flight"
    );
    assert_eq!(k.token_headroom(t0() + TimeDelta::seconds(61)), Some(1000));
    let (_, open) = one(KeySpec::default());
    assert_eq!(open.token_headroom(t0()), None);
}
