//! Virtual keys on the request path: authenticate, check the route, admit (reserve the worst
//! case against budgets and rate limits) and settle; and the key operations the admin API and
//! `switchyard keys` share.
//!
//! Keys live in the ledger file (`virtual_keys`, hashed). The in-memory [`Governor`] is
//! refreshed after every change made through this gateway and, for changes made by another
//! process (the CLI), whenever the store's version counter moves (polled by the server).

use crate::Gateway;
use crate::error::GatewayError;
use crate::pipeline::RequestContext;
use crate::reserve::PromptBound;
use chrono::Utc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use switchyard_governance::{
    AuthError, Demand, Fleet, Governor, KeyHandle, KeyInfo, KeySpec, KeyStore, KeyUsage,
    LedgerSpend, Reservation, StoreError,
};
use switchyard_ledger::Location;
use switchyard_primitives::Money;

/// The gateway's key store and the governor built from it.
pub(crate) struct Governance {
    pub(crate) governor: Governor,
    store: Mutex<KeyStore>,
    version: AtomicI64,
    pub(crate) ledger: Location,
    /// `[fleet]`: the counters shared through Redis; `None`: in-process only.
    pub(crate) fleet: Option<Fleet>,
}

/// Who is calling, once authenticated.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No keys are configured: the gateway is open.
    Open,
    /// The operator's master key: no budgets or limits.
    Master,
    Key(Arc<KeyHandle>),
}

/// What an admitted request carries to its settlement, and the headers it earned.
#[derive(Debug, Default)]
pub struct Admitted {
    pub reservation: Option<Reservation>,
    pub budget_remaining: Option<Money>,
    pub requests_remaining: Option<u64>,
    pub tokens_remaining: Option<u64>,
    pub warnings: Vec<String>,
    /// With `[fleet]`: what the shared admission still has to decide (see
    /// `Gateway::admit_shared`).
    pub(crate) pending: Option<Demand>,
}

impl Admitted {
    /// Swaps the hold for the actual cost.
    pub(crate) fn settle(&mut self, cost: Option<Money>, tokens: u64) {
        if let Some(r) = self.reservation.take() {
            r.settle(cost.unwrap_or(Money::ZERO), tokens, Utc::now());
        }
    }
}

impl Governance {
    pub(crate) fn open(
        ledger: &Location,
        fleet: Option<&crate::config::FleetConfig>,
    ) -> Result<Self, String> {
        let fleet = fleet
            .map(|f| Fleet::open(&f.redis_url, f.options.clone()))
            .transpose()
            .map_err(|e| e.to_string())?;
        let store = KeyStore::at(ledger).map_err(|e| e.to_string())?;
        let version = store.version().map_err(|e| e.to_string())?;
        let keys = store.all_with_hashes().map_err(|e| e.to_string())?;
        let spend = LedgerSpend::at(ledger).map_err(|e| e.to_string())?;
        let governor = Governor::new(keys, &spend, Utc::now()).map_err(|e| e.to_string())?;
        Ok(Governance {
            governor,
            store: Mutex::new(store),
            version: AtomicI64::new(version),
            ledger: ledger.clone(),
            fleet,
        })
    }

    fn store(&self) -> std::sync::MutexGuard<'_, KeyStore> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reloads the governor when the store changed since the last look.
    fn refresh(&self, force: bool) -> Result<bool, String> {
        let store = self.store();
        let version = store.version().map_err(|e| e.to_string())?;
        if !force && version == self.version.load(Ordering::Acquire) {
            return Ok(false);
        }
        let keys = store.all_with_hashes().map_err(|e| e.to_string())?;
        drop(store);
        let spend = LedgerSpend::at(&self.ledger).map_err(|e| e.to_string())?;
        self.governor
            .replace_keys(keys, &spend, Utc::now())
            .map_err(|e| e.to_string())?;
        self.version.store(version, Ordering::Release);
        Ok(true)
    }
}

/// Attributes the request to an authenticated key: its id, team and workload.
fn adopt(ctx: &mut RequestContext, key: Arc<KeyHandle>) {
    let info = key.info();
    ctx.key_id = Some(info.id.clone());
    if ctx.team.is_none() {
        ctx.team = info.spec.team.clone();
    }
    if let Some(w) = &info.spec.workload {
        ctx.workload = Some(w.clone());
    }
    ctx.caller = Caller::Key(key);
}

/// What a request asks for, as far as budgets and token limits go.
pub(crate) struct Ask<F> {
    /// Counts the prompt's tokens exactly; only called for a key with a token limit (`tpm`)
    /// whose headroom the prompt's byte bound could exceed.
    pub prompt_tokens: F,
    /// The upper bound on the prompt's tokens that budgets reserve against (no tokenizer).
    pub bound: PromptBound,
    /// The client's output limit, if it set one.
    pub max_output: Option<u64>,
}

/// The prompt tokens a `tpm` limit is checked and held against (0 without one).
///
/// The body's byte length bounds the exact count (`reserve.rs`), so when even that fits the
/// window's headroom the exact count could not change the verdict: a cheap estimate is held
/// while the request is in flight, and settlement records the tokens the provider reports.
/// Only a prompt whose bound could cross the limit is tokenised.
pub(crate) fn tpm_prompt(
    headroom: Option<u64>,
    bound: &PromptBound,
    exact: impl FnOnce() -> u64,
) -> u64 {
    match headroom {
        None => 0,
        Some(_) if !tpm_is_near(headroom, bound) => crate::tokens::estimate(bound.body_bytes),
        Some(_) => exact(),
    }
}

/// Whether a `tpm` window with `headroom` tokens left could be crossed by the prompt's byte
/// bound: only then is the exact count needed.
fn tpm_is_near(headroom: Option<u64>, bound: &PromptBound) -> bool {
    headroom.is_some_and(|room| bound.body_bytes > room)
}

/// A key operation's failure, for the admin API and the CLI.
#[derive(Debug, thiserror::Error)]
pub enum KeyOpError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Refresh(String),
    /// Settings that are not even a key spec (wrong JSON types, unknown fields).
    #[error("{0}")]
    Invalid(String),
}

impl KeyOpError {
    /// 404 for an unknown key, 400 for invalid settings or a revoked key, 500 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            KeyOpError::Store(StoreError::NotFound { .. }) => 404,
            KeyOpError::Store(StoreError::Invalid(_) | StoreError::Revoked { .. })
            | KeyOpError::Invalid(_) => 400,
            _ => 500,
        }
    }
}

impl Gateway {
    pub(crate) fn governance(&self) -> &Governance {
        &self.inner.governance
    }

    /// Checks the caller's key. With no virtual key configured the gateway is open; with
    /// keys, a missing or unknown key is a 401 (the master key is accepted too). Nothing is
    /// written to the ledger here: [`Gateway::serve`] records a model call's refusal, and the
    /// endpoints that are not model calls (`/v1/models`, `/v1/status`, count_tokens) record
    /// none.
    pub fn check_caller(
        &self,
        ctx: &mut RequestContext,
        presented: Option<&str>,
    ) -> Result<(), GatewayError> {
        self.identify(ctx, presented)
    }

    fn identify(
        &self,
        ctx: &mut RequestContext,
        presented: Option<&str>,
    ) -> Result<(), GatewayError> {
        let gov = self.governance();
        let is_master = presented.is_some_and(|p| {
            self.live()
                .master_key
                .as_ref()
                .is_some_and(|m| crate::secret_eq(p, m.expose()))
        });
        if is_master {
            ctx.caller = Caller::Master;
            ctx.key_id = Some("master".into());
            return Ok(());
        }
        if !gov.governor.is_enforcing() {
            ctx.caller = Caller::Open;
            return Ok(());
        }
        let result = match presented {
            None => Err(AuthError::Missing),
            Some(p) => gov.governor.authenticate(p, Utc::now()),
        };
        match result {
            Ok(key) => {
                adopt(ctx, key);
                Ok(())
            }
            Err(e) => {
                let message = match e {
                    AuthError::Missing => "This gateway requires an API key: send a Switchyard virtual key as `Authorization: Bearer sk-sy-…` (or `x-api-key`).".to_string(),
                    AuthError::Invalid => "The API key is not valid for this gateway.".to_string(),
                    AuthError::Expired { at } => format!("The API key expired at {}; ask for a new one.", at.to_rfc3339()),
                    AuthError::Revoked => "The API key has been revoked.".to_string(),
                };
                Err(GatewayError::Unauthorized { message })
            }
        }
    }

    /// Whether admitting this caller's request will count its prompt exactly (a key whose
    /// `tpm` window the prompt's byte bound could cross), so the pipeline can count a long
    /// prompt off the async workers first.
    pub(crate) fn tpm_needs_exact(&self, ctx: &RequestContext, bound: &PromptBound) -> bool {
        match &ctx.caller {
            Caller::Key(key) => tpm_is_near(key.token_headroom(Utc::now()), bound),
            _ => false,
        }
    }

    /// batch: makes `ctx` the caller `key_id` names (`None` for an open gateway, `master`,
    /// or a virtual key's id), for work a caller left behind: the lines of its batch run
    /// after the upload request ended, and after a restart. A key revoked or expired since
    /// is refused as it would be at the door.
    pub fn act_as(
        &self,
        ctx: &mut RequestContext,
        key_id: Option<&str>,
    ) -> Result<(), GatewayError> {
        match key_id {
            None => ctx.caller = Caller::Open,
            Some("master") => {
                ctx.caller = Caller::Master;
                ctx.key_id = Some("master".into());
            }
            Some(id) => {
                let now = Utc::now();
                let key = self.governance().governor.key(id).filter(|k| {
                    let info = k.info();
                    info.revoked_at.is_none() && info.spec.expires_at.is_none_or(|at| at > now)
                });
                let Some(key) = key else {
                    return Err(GatewayError::Unauthorized {
                        message: format!(
                            "The key {id:?} that created this batch is revoked, expired or deleted; its remaining lines cannot run."
                        ),
                    });
                };
                adopt(ctx, key);
            }
        }
        Ok(())
    }

    /// Looks for key changes made by another process; true when the key set was reloaded.
    pub fn refresh_keys(&self) -> Result<bool, String> {
        self.governance().refresh(false)
    }

    /// Creates a key; the secret is returned once and never stored.
    pub fn create_key(&self, spec: KeySpec) -> Result<(KeyInfo, String), KeyOpError> {
        let made = self.governance().store().create(spec, Utc::now())?;
        self.after_key_change()?;
        Ok(made)
    }

    pub fn list_keys(&self) -> Result<Vec<KeyInfo>, KeyOpError> {
        Ok(self.governance().store().list()?)
    }

    pub fn get_key(&self, id: &str) -> Result<KeyInfo, KeyOpError> {
        Ok(self.governance().store().get(id)?)
    }

    pub fn update_key(&self, id: &str, spec: KeySpec) -> Result<KeyInfo, KeyOpError> {
        let info = self.governance().store().update(id, spec)?;
        self.after_key_change()?;
        Ok(info)
    }

    /// A new secret for the key; the old one stops working at once.
    pub fn rotate_key(&self, id: &str) -> Result<(KeyInfo, String), KeyOpError> {
        let made = self.governance().store().rotate(id, Utc::now())?;
        self.after_key_change()?;
        Ok(made)
    }

    pub fn revoke_key(&self, id: &str) -> Result<KeyInfo, KeyOpError> {
        let info = self.governance().store().revoke(id, Utc::now())?;
        self.after_key_change()?;
        Ok(info)
    }

    /// A key's budgets and limits as counted now.
    pub fn key_usage(&self, id: &str) -> Option<KeyUsage> {
        self.governance().governor.snapshot(id, Utc::now())
    }

    fn after_key_change(&self) -> Result<(), KeyOpError> {
        self.governance()
            .refresh(true)
            .map_err(KeyOpError::Refresh)?;
        // The other replicas reload at once (pub/sub); without a runtime they poll.
        if let (Some(fleet), Ok(rt)) = (
            self.governance().fleet.clone(),
            tokio::runtime::Handle::try_current(),
        ) {
            rt.spawn(async move { fleet.announce_key_change().await });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(bytes: u64) -> PromptBound {
        PromptBound {
            body_bytes: bytes,
            ..PromptBound::default()
        }
    }

    #[test]
    fn tpm_far_from_its_edge_is_checked_against_an_estimate_without_counting() {
        let prompt = tpm_prompt(Some(10_000), &body(2_500), || panic!("counted exactly"));
        assert_eq!(prompt, 625);
        assert_eq!(
            tpm_prompt(Some(2_500), &body(2_500), || panic!("counted")),
            625
        );
    }

    #[test]
    fn tpm_near_its_edge_counts_the_prompt_exactly() {
        assert_eq!(tpm_prompt(Some(2_499), &body(2_500), || 480), 480);
        assert_eq!(tpm_prompt(Some(0), &body(10), || 3), 3);
    }

    #[test]
    fn no_tpm_limit_holds_no_tokens_and_counts_nothing() {
        assert_eq!(tpm_prompt(None, &body(2_500), || panic!("counted")), 0);
    }
}
