//! `POST /v1/dashboard/contracts`: contract offers side by side. The body is offers in the
//! TOML of `switchyard strategy contract --file` (docs/contracts.md); each is simulated on
//! this ledger's usage (the first offer's provider's monthly spend and hourly tokens, the
//! observed growth with 10 % volatility, 2,000 paths: the CLI's defaults) by
//! `switchyard_strategy::contract::compare`, the on-demand baseline first.

use super::params::bad;
use super::read::{render, to_json};
use super::viewer::master_only;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use rust_decimal::Decimal;
use switchyard_gateway::Gateway;
use switchyard_ledger::Location;
use switchyard_strategy::contract::{self, GrowthModel, Offer, SimOptions, UsageHistory};
use switchyard_strategy::{History, contract_usage, source};

/// Offers files are small; anything larger is not one.
const MAX_BODY: usize = 256 * 1024;

fn offers(body: &[u8]) -> Result<Vec<Offer>, Box<Response>> {
    if body.len() > MAX_BODY {
        return Err(bad("offers", "the offers file is over 256 KiB"));
    }
    let text =
        std::str::from_utf8(body).map_err(|_| bad("offers", "the body must be UTF-8 TOML"))?;
    contract::parse_offers(text).map_err(|e| bad("offers", &e.to_string()))
}

/// The offers' results on the ledger's usage; a simulation that cannot run (no history, bad
/// growth) is the caller's 400.
fn simulate(gw: &Gateway, offers: &[Offer]) -> Result<Result<serde_json::Value, String>, String> {
    let store = Location::from(gw.ledger_path())
        .open_existing()
        .map_err(|e| e.to_string())?;
    let history = History::load(store.as_ref(), None).map_err(|e| e.to_string())?;
    let provider = offers
        .first()
        .map(|o| o.provider.clone())
        .filter(|p| p != "*");
    let hourly = source::hourly_tokens(store.as_ref(), provider.as_deref(), 30)
        .map_err(|e| e.to_string())?;
    let usage = UsageHistory {
        monthly: contract_usage::monthly_totals(&history, provider.as_deref()),
        hourly_tokens: Some(hourly),
    };
    let growth = GrowthModel {
        monthly_growth_mean: contract_usage::observed_growth(&history),
        monthly_growth_volatility: Decimal::new(1, 1),
    };
    let opts = SimOptions {
        paths: 2000,
        ..Default::default()
    };
    Ok(match contract::compare(offers, &usage, &growth, &opts) {
        Ok(results) => to_json(&results),
        Err(e) => Err(e.to_string()),
    })
}

pub async fn contracts(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let offers = match master_only(&gw, &headers).and_then(|()| offers(&body)) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let g = gw.clone();
    let done = tokio::task::spawn_blocking(move || simulate(&g, &offers)).await;
    match done {
        Ok(Ok(Err(e))) => *bad(
            "offers",
            &format!("the offers cannot be simulated on this ledger: {e}"),
        ),
        Ok(Ok(Ok(v))) => render(Ok(v)),
        Ok(Err(e)) => render(Err(e)),
        Err(_) => render(Err("the simulation failed; see the gateway log".into())),
    }
}
