//! Contract files: TOML text → validated [`Offer`]s, every error reported at once.
//!
//! The file holds one or more `[[offers]]`; `crates/strategy/examples/contract.toml` documents
//! every key. Each error names its field path (`offers[1].commit.discount`) and says how to fix
//! it; unknown keys are errors, so a misspelt term is never silently ignored.

use super::fields::{ContractError, ContractErrors, Errors, Fields};
use super::terms::{
    Commit, CommitKind, ExitFee, Offer, Period, Reserved, Rollover, Tier, Trigger, UsageMix,
};
use chrono::Datelike;
use rust_decimal::Decimal;
use std::collections::HashMap;
use switchyard_primitives::Money;

const OFFER_KEYS: &[&str] = &[
    "name",
    "provider",
    "start",
    "term_months",
    "commit",
    "overage_rate",
    "rollover",
    "rollover_cap_usd",
    "escalation_per_year",
    "tiers",
    "exit_fee",
    "reserved",
    "batch_share",
    "batch_discount",
    "priority_share",
    "priority_premium",
    "triggers",
];

/// Parses and validates a contract file; on failure, returns every problem found.
pub fn parse_offers(text: &str) -> Result<Vec<Offer>, ContractErrors> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        ContractErrors(vec![ContractError {
            path: "(file)".to_string(),
            message: e.to_string(),
        }])
    })?;
    let mut errs = Errors::default();
    let mut doc = Fields::new(String::new(), table, &mut errs);
    doc.require(&["offers"]);
    let items = doc.tables("offers");
    doc.finish(&["offers"]);
    let mut offers = Vec::new();
    for (path, t) in items {
        if let Some(o) = offer(path, t, &mut errs) {
            offers.push(o);
        }
    }
    let mut seen = HashMap::new();
    for (i, o) in offers.iter().enumerate() {
        if let Some(first) = seen.insert(o.name.clone(), i) {
            errs.push(
                format!("offers[{i}].name"),
                format!(
                    "{:?} is also the name of offers[{first}]; names must differ",
                    o.name
                ),
            );
        }
    }
    if errs.0.is_empty() {
        Ok(offers)
    } else {
        Err(ContractErrors(errs.0))
    }
}

fn offer(path: String, table: toml::Table, errs: &mut Errors) -> Option<Offer> {
    let before = errs.0.len();
    let mut f = Fields::new(path, table, errs);
    f.require(&["name", "provider", "start", "term_months"]);
    let name = f.string("name");
    let provider = f.string("provider");
    let start = f.date("start");
    if let Some(d) = start.filter(|d| d.day() != 1) {
        let first = d.with_day(1).unwrap_or(d);
        let message = format!(
            "is {d}; contracts are simulated by calendar month, so start on the 1st (e.g. {first})"
        );
        f.error("start", message);
    }
    let term_months = f
        .integer("term_months", 1, 120)
        .and_then(|t| u32::try_from(t).ok());
    // Judged on presence, so a broken [commit] is not also reported as a missing one.
    let has_commitment = f.has("commit") || f.has("reserved");
    let commit = commit_terms(&mut f);
    let tiers = tiers(&mut f);
    let reserved = reserved(&mut f);
    let exit_fee = exit_fee(&mut f, has_commitment);
    let mix = mix(&mut f);
    let triggers = triggers(&mut f);
    f.finish(OFFER_KEYS);
    if errs.0.len() > before {
        return None;
    }
    Some(Offer {
        name: name?,
        provider: provider?,
        start: start?,
        term_months: term_months?,
        commit,
        tiers,
        exit_fee,
        reserved,
        mix,
        triggers,
    })
}

/// The offer-level keys that refine a commitment.
struct Extras {
    overage: Option<Decimal>,
    rollover: Option<Rollover>,
    escalation: Option<Decimal>,
}

fn commit_extras(f: &mut Fields, has_commit: bool) -> Extras {
    let overage = f.discount("overage_rate");
    let fraction = f.fraction("rollover");
    let cap = f.bounded("rollover_cap_usd", Decimal::ZERO, None);
    let escalation = f.fraction("escalation_per_year");
    if cap.is_some() && fraction.is_none() {
        f.error(
            "rollover_cap_usd",
            "caps a rollover; set rollover too, or remove the cap",
        );
    }
    let set = [
        ("overage_rate", overage.is_some()),
        ("rollover", fraction.is_some()),
        ("escalation_per_year", escalation.is_some()),
    ];
    for (key, _) in set.iter().filter(|(_, set)| *set && !has_commit) {
        f.error(
            key,
            "applies to a commitment; add [offers.commit] or remove it",
        );
    }
    Extras {
        overage,
        rollover: fraction.map(|fraction| Rollover {
            fraction,
            cap: cap.map(Money),
        }),
        escalation,
    }
}

/// `[offers.commit]` plus the offer-level keys that only make sense with a commitment.
fn commit_terms(f: &mut Fields) -> Option<Commit> {
    let table = f.table("commit");
    let extras = commit_extras(f, table.is_some());
    let mut c = Fields::new(f.at("commit"), table?, &mut *f.errs);
    c.require(&["amount_usd", "discount"]);
    let amount = c.bounded("amount_usd", Decimal::ZERO, None);
    if amount == Some(Decimal::ZERO) {
        c.error(
            "amount_usd",
            "must be above 0; an offer without a commitment omits [commit]",
        );
    }
    let discount = c.discount("discount");
    let period = c.choice(
        "period",
        &[("month", Period::Month), ("year", Period::Year)],
    );
    let kind = c.choice(
        "kind",
        &[
            ("minimum", CommitKind::Minimum),
            ("drawdown", CommitKind::Drawdown),
        ],
    );
    c.finish(&["amount_usd", "period", "discount", "kind"]);
    let discount = discount?;
    Some(Commit {
        amount: Money(amount.filter(|a| !a.is_zero())?),
        period: period?,
        discount,
        kind: kind?,
        overage_discount: extras.overage.unwrap_or(discount),
        rollover: extras.rollover,
        escalation_per_year: extras.escalation.unwrap_or_default(),
    })
}

fn tiers(f: &mut Fields) -> Vec<Tier> {
    let mut out: Vec<Tier> = Vec::new();
    for (path, table) in f.tables("tiers") {
        let mut t = Fields::new(path, table, &mut *f.errs);
        t.require(&["above_usd", "discount"]);
        let above = t.bounded("above_usd", Decimal::ZERO, None);
        let discount = t.discount("discount");
        if let (Some(a), Some(prev)) = (above, out.last()) {
            if a <= prev.above.0 {
                t.error(
                    "above_usd",
                    format!(
                        "is {a}; list tiers in increasing order, each above the previous ({})",
                        prev.above
                    ),
                );
            }
        }
        t.finish(&["above_usd", "discount"]);
        if let (Some(a), Some(discount)) = (above, discount) {
            out.push(Tier {
                above: Money(a),
                discount,
            });
        }
    }
    out
}

fn exit_fee(f: &mut Fields, has_commitment: bool) -> Option<ExitFee> {
    let table = f.table("exit_fee")?;
    let mut e = Fields::new(f.at("exit_fee"), table, &mut *f.errs);
    let fixed = e.bounded("fixed_usd", Decimal::ZERO, None);
    let fraction = e.fraction("fraction_of_remaining");
    e.finish(&["fixed_usd", "fraction_of_remaining"]);
    match (fixed, fraction) {
        (Some(x), None) => Some(ExitFee::Fixed(Money(x))),
        (None, Some(x)) if has_commitment => Some(ExitFee::FractionOfRemaining(x)),
        (None, Some(_)) => {
            f.error(
                "exit_fee.fraction_of_remaining",
                "there is no commitment to take a fraction of; \
                 add [commit] or [reserved], or use fixed_usd",
            );
            None
        }
        (Some(_), Some(_)) => {
            f.error(
                "exit_fee",
                "set fixed_usd or fraction_of_remaining, not both",
            );
            None
        }
        _ => {
            f.error("exit_fee", "set fixed_usd or fraction_of_remaining");
            None
        }
    }
}

fn reserved(f: &mut Fields) -> Option<Reserved> {
    let table = f.table("reserved")?;
    let mut r = Fields::new(f.at("reserved"), table, &mut *f.errs);
    r.require(&["units", "hourly_usd_per_unit", "tokens_per_minute_per_unit"]);
    let units = r
        .integer("units", 1, 1_000_000)
        .and_then(|u| u32::try_from(u).ok());
    let hourly = r.bounded("hourly_usd_per_unit", Decimal::ZERO, None);
    let tpm = r
        .integer("tokens_per_minute_per_unit", 1, 1_000_000_000_000)
        .and_then(|t| u64::try_from(t).ok());
    let overflow = r.discount("overflow_discount");
    r.finish(&[
        "units",
        "hourly_usd_per_unit",
        "tokens_per_minute_per_unit",
        "overflow_discount",
    ]);
    Some(Reserved {
        units: units?,
        hourly_per_unit: Money(hourly?),
        tokens_per_minute_per_unit: tpm?,
        overflow_discount: overflow.unwrap_or_default(),
    })
}

fn mix(f: &mut Fields) -> UsageMix {
    let batch_share = f.fraction("batch_share");
    let batch_discount = f.discount("batch_discount");
    let priority_share = f.fraction("priority_share");
    let priority_premium = f.bounded("priority_premium", Decimal::ZERO, None);
    for (a, b, a_set, b_set) in [
        (
            "batch_share",
            "batch_discount",
            batch_share.is_some(),
            batch_discount.is_some(),
        ),
        (
            "priority_share",
            "priority_premium",
            priority_share.is_some(),
            priority_premium.is_some(),
        ),
    ] {
        if a_set != b_set {
            let (have, missing) = if a_set { (a, b) } else { (b, a) };
            f.error(missing, format!("is required when {have} is set"));
        }
    }
    let (b, p) = (
        batch_share.unwrap_or_default(),
        priority_share.unwrap_or_default(),
    );
    if b + p > Decimal::ONE {
        f.error(
            "priority_share",
            format!(
                "batch_share + priority_share is {}; together they must be at most 1",
                b + p
            ),
        );
    }
    UsageMix {
        batch_share: b,
        batch_discount: batch_discount.unwrap_or_default(),
        priority_share: p,
        priority_premium: priority_premium.unwrap_or_default(),
    }
}

fn triggers(f: &mut Fields) -> Vec<Trigger> {
    let mut out = Vec::new();
    for (path, table) in f.tables("triggers") {
        let mut t = Fields::new(path, table, &mut *f.errs);
        t.require(&["when_monthly_spend_usd_above", "action"]);
        let above = t.bounded("when_monthly_spend_usd_above", Decimal::ZERO, None);
        let action = t.string("action");
        t.finish(&["when_monthly_spend_usd_above", "action"]);
        if let (Some(above), Some(action)) = (above, action) {
            out.push(Trigger {
                above: Money(above),
                action,
            });
        }
    }
    out
}
