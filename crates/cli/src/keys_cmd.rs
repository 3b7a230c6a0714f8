//! `switchyard keys create|list|show|update|rotate|revoke`: virtual keys, the same operations
//! as `/admin/keys`, on the key table in the ledger file. A running gateway notices the change
//! within `[admin] key_poll_ms`.

use crate::ConfigArg;
use crate::table;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_governance::{Budget, KeyInfo, KeySpec, KeyStore, LedgerSpend, Period, SpendSource};
use switchyard_primitives::Money;

#[derive(clap::Args, Clone)]
pub struct Store {
    #[command(flatten)]
    config: ConfigArg,
    /// Ledger file holding the keys (overrides the config's [ledger] path).
    #[arg(long)]
    ledger: Option<PathBuf>,
}

impl Store {
    fn path(&self) -> anyhow::Result<PathBuf> {
        Ok(match &self.ledger {
            Some(p) => p.clone(),
            None => self.config.load()?.ledger.path,
        })
    }

    fn open(&self) -> anyhow::Result<KeyStore> {
        let path = self.path()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        Ok(KeyStore::open(&path)?)
    }
}

/// A key's settings as flags. On `update`, only the flags given change anything.
#[derive(clap::Args, Clone, Default)]
pub struct SpecArgs {
    /// A label for people.
    #[arg(long)]
    name: Option<String>,
    /// Team the key's spend is attributed to.
    #[arg(long)]
    team: Option<String>,
    /// Workload recorded for the key's requests.
    #[arg(long)]
    workload: Option<String>,
    /// A route the key may call (repeat for several; none means every route).
    #[arg(long = "route")]
    routes: Vec<String>,
    /// A budget: PERIOD=USD, optionally :soft (e.g. day=10, month=500:soft). Repeatable.
    #[arg(long = "budget", value_parser = parse_budget)]
    budgets: Vec<Budget>,
    /// Requests per minute.
    #[arg(long)]
    rpm: Option<u32>,
    /// Tokens per minute (prompt + completion).
    #[arg(long)]
    tpm: Option<u64>,
    /// Expiry: an RFC 3339 time (2027-01-31T00:00:00Z) or a span from now (30d, 12h).
    #[arg(long, value_parser = parse_expiry)]
    expires: Option<DateTime<Utc>>,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a key; its secret is printed once and never stored.
    Create {
        #[command(flatten)]
        store: Store,
        #[command(flatten)]
        spec: SpecArgs,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List keys (never their secrets).
    List {
        #[command(flatten)]
        store: Store,
        /// Include revoked keys.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// One key's settings and its spend in each budget period, from the ledger.
    Show {
        id: String,
        #[command(flatten)]
        store: Store,
        #[arg(long)]
        json: bool,
    },
    /// Change a key's settings; flags not given stay as they are.
    Update {
        id: String,
        #[command(flatten)]
        store: Store,
        #[command(flatten)]
        spec: SpecArgs,
        /// Remove every budget (before adding any --budget given).
        #[arg(long)]
        clear_budgets: bool,
        /// Allow every route again (before adding any --route given).
        #[arg(long)]
        all_routes: bool,
    },
    /// Give a key a new secret; the old one stops working.
    Rotate {
        id: String,
        #[command(flatten)]
        store: Store,
    },
    /// Revoke a key for good.
    Revoke {
        id: String,
        #[command(flatten)]
        store: Store,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let now = Utc::now();
    match cmd {
        Command::Create { store, spec, json } => {
            let spec = spec.apply(KeySpec::default());
            let (info, secret) = store.open()?.create(spec, now)?;
            if json {
                println!("{}", serde_json::json!({"key": secret, "key_info": info}));
            } else {
                println!("Created {} ({}).", info.id, describe(&info));
                println!("Key (shown once; only its hash is kept):\n\n    {secret}\n");
            }
        }
        Command::List { store, all, json } => {
            let keys: Vec<KeyInfo> = store
                .open()?
                .list()?
                .into_iter()
                .filter(|k| all || k.revoked_at.is_none())
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
            } else if keys.is_empty() {
                println!(
                    "No keys. Create one with `switchyard keys create --team T --budget day=10`."
                );
            } else {
                print!("{}", keys_table(&keys, now));
            }
        }
        Command::Show { id, store, json } => {
            let info = store.open()?.get(&id)?;
            let spend = LedgerSpend::open(&store.path()?)?;
            let mut spent = Vec::new();
            for b in &info.spec.budgets {
                let s = spend.spent_since(&info.id, b.period.start(now))?;
                spent.push((b.clone(), s));
            }
            if json {
                let budgets: Vec<_> = spent
                    .iter()
                    .map(|(b, s)| {
                        serde_json::json!({
                            "period": b.period, "limit_usd": b.limit_usd, "hard": b.hard,
                            "spent_usd": s, "resets_at": b.period.next_start(now),
                        })
                    })
                    .collect();
                let mut v = serde_json::json!({"key_info": info, "budgets": budgets});
                switchyard_strategy::rounding::round_json(&mut v);
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!("{}  {}", info.id, describe(&info));
                println!("prefix   {}…", info.prefix);
                println!("created  {}", info.created_at.to_rfc3339());
                if let Some(r) = info.rotated_at {
                    println!("rotated  {}", r.to_rfc3339());
                }
                if let Some(r) = info.revoked_at {
                    println!("revoked  {}", r.to_rfc3339());
                }
                let rows: Vec<Vec<String>> = spent
                    .iter()
                    .map(|(b, s)| {
                        vec![
                            b.period.as_str().to_string(),
                            if b.hard { "hard" } else { "soft" }.to_string(),
                            format!("${}", b.limit_usd.display_rounded()),
                            format!("${}", s.display_rounded()),
                            b.period
                                .next_start(now)
                                .format("%Y-%m-%d %H:%M")
                                .to_string(),
                        ]
                    })
                    .collect();
                if !rows.is_empty() {
                    println!();
                    print!(
                        "{}",
                        table::render(
                            &["budget", "kind", "limit", "spent", "resets (UTC)"],
                            &rows,
                            &[2, 3]
                        )
                    );
                }
            }
        }
        Command::Update {
            id,
            store,
            spec,
            clear_budgets,
            all_routes,
        } => {
            let s = store.open()?;
            let mut current = s.get(&id)?.spec;
            if clear_budgets {
                current.budgets.clear();
            }
            if all_routes {
                current.allowed_routes.clear();
            }
            let info = s.update(&id, spec.apply(current))?;
            println!("Updated {} ({}).", info.id, describe(&info));
        }
        Command::Rotate { id, store } => {
            let (info, secret) = store.open()?.rotate(&id, now)?;
            println!("Rotated {}; the old key no longer works.", info.id);
            println!("New key (shown once):\n\n    {secret}\n");
        }
        Command::Revoke { id, store } => {
            let info = store.open()?.revoke(&id, now)?;
            println!("Revoked {}.", info.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl SpecArgs {
    /// `base` with every given flag applied: scalars replace, routes and budgets add (a
    /// budget replaces one of the same period).
    fn apply(self, mut base: KeySpec) -> KeySpec {
        if self.name.is_some() {
            base.name = self.name;
        }
        if self.team.is_some() {
            base.team = self.team;
        }
        if self.workload.is_some() {
            base.workload = self.workload;
        }
        for r in self.routes {
            if !base.allowed_routes.contains(&r) {
                base.allowed_routes.push(r);
            }
        }
        for b in self.budgets {
            base.budgets.retain(|x| x.period != b.period);
            base.budgets.push(b);
        }
        if self.rpm.is_some() {
            base.rpm = self.rpm;
        }
        if self.tpm.is_some() {
            base.tpm = self.tpm;
        }
        if self.expires.is_some() {
            base.expires_at = self.expires;
        }
        base
    }
}

fn describe(k: &KeyInfo) -> String {
    let mut parts = Vec::new();
    if let Some(n) = &k.spec.name {
        parts.push(format!("name {n}"));
    }
    if let Some(t) = &k.spec.team {
        parts.push(format!("team {t}"));
    }
    if let Some(w) = &k.spec.workload {
        parts.push(format!("workload {w}"));
    }
    parts.push(if k.spec.allowed_routes.is_empty() {
        "all routes".to_string()
    } else {
        format!("routes {}", k.spec.allowed_routes.join(","))
    });
    parts.join(", ")
}

fn keys_table(keys: &[KeyInfo], now: DateTime<Utc>) -> String {
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            let budgets = k
                .spec
                .budgets
                .iter()
                .map(|b| {
                    format!(
                        "{}=${}{}",
                        b.period.as_str(),
                        b.limit_usd.display_rounded(),
                        if b.hard { "" } else { " (soft)" }
                    )
                })
                .collect::<Vec<_>>()
                .join(" ");
            let state = match (k.revoked_at, k.spec.expires_at) {
                (Some(_), _) => "revoked".to_string(),
                (None, Some(at)) if at <= now => "expired".to_string(),
                (None, Some(at)) => format!("until {}", at.format("%Y-%m-%d")),
                (None, None) => "active".to_string(),
            };
            let limits = [
                k.spec.rpm.map(|r| format!("{r} rpm")),
                k.spec.tpm.map(|t| format!("{t} tpm")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            vec![
                k.id.clone(),
                format!("{}…", k.prefix),
                k.spec.team.clone().unwrap_or_default(),
                k.spec.name.clone().unwrap_or_default(),
                budgets,
                limits,
                state,
            ]
        })
        .collect();
    table::render(
        &["id", "key", "team", "name", "budgets", "limits", "state"],
        &rows,
        &[],
    )
}

fn parse_budget(s: &str) -> Result<Budget, String> {
    let (period, rest) = s.split_once('=').ok_or_else(|| {
        format!("{s:?}: write a budget as PERIOD=USD, e.g. day=10 or month=500:soft")
    })?;
    let period = match period.trim() {
        "day" | "daily" => Period::Day,
        "week" | "weekly" => Period::Week,
        "month" | "monthly" => Period::Month,
        other => return Err(format!("{other:?} is not a period; use day, week or month")),
    };
    let (amount, hard) = match rest.rsplit_once(':') {
        Some((a, "soft")) => (a, false),
        Some((a, "hard")) => (a, true),
        Some((_, other)) => return Err(format!("{other:?}: a budget is hard (default) or :soft")),
        None => (rest, true),
    };
    let limit_usd: Money = amount
        .trim()
        .trim_start_matches('$')
        .parse()
        .map_err(|e: switchyard_primitives::MoneyParseError| e.to_string())?;
    Ok(Budget {
        period,
        limit_usd,
        hard,
    })
}

fn parse_expiry(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{s:?}: give an RFC 3339 time or a span like 30d or 12h"))?;
    let span = match unit {
        "d" => chrono::Duration::days(n),
        "h" => chrono::Duration::hours(n),
        "m" => chrono::Duration::minutes(n),
        _ => return Err(format!("{s:?}: a span ends in d, h or m")),
    };
    Ok(Utc::now() + span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_with_kind_and_refuse_nonsense() {
        let b = parse_budget("day=10").ok();
        assert_eq!(
            b.as_ref().map(|b| (b.period, b.hard)),
            Some((Period::Day, true))
        );
        let b = parse_budget("month=$500.50:soft").ok();
        assert_eq!(
            b.as_ref()
                .map(|b| (b.period, b.hard, b.limit_usd.to_string())),
            Some((Period::Month, false, "500.5".to_string()))
        );
        assert!(parse_budget("year=10").is_err());
        assert!(parse_budget("day").is_err());
        assert!(parse_budget("day=ten").is_err());
        assert!(parse_budget("day=10:maybe").is_err());
    }

    #[test]
    fn expiry_takes_a_time_or_a_span() {
        let t = parse_expiry("2027-01-31T00:00:00Z").ok();
        assert_eq!(
            t.map(|t| t.to_rfc3339()),
            Some("2027-01-31T00:00:00+00:00".into())
        );
        let in_30d = parse_expiry("30d").ok();
        assert!(in_30d.is_some_and(|t| t > Utc::now() + chrono::Duration::days(29)));
        assert!(parse_expiry("soon").is_err());
        assert!(parse_expiry("3w").is_err());
    }

    #[test]
    fn update_flags_replace_scalars_and_merge_lists() {
        let base = KeySpec {
            team: Some("a".into()),
            allowed_routes: vec!["r1".into()],
            budgets: vec![Budget {
                period: Period::Day,
                limit_usd: Money::ZERO,
                hard: true,
            }],
            ..KeySpec::default()
        };
        let args = SpecArgs {
            routes: vec!["r2".into(), "r1".into()],
            budgets: parse_budget("day=5").into_iter().collect(),
            rpm: Some(10),
            ..SpecArgs::default()
        };
        let s = args.apply(base);
        assert_eq!(s.team.as_deref(), Some("a"));
        assert_eq!(s.allowed_routes, ["r1", "r2"]);
        assert_eq!(
            s.budgets.len(),
            1,
            "the day budget was replaced, not duplicated"
        );
        assert_eq!(s.rpm, Some(10));
    }
}
