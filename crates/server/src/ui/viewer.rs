//! Who is looking: the master key sees everything, a virtual key only its own spend, budget,
//! limits and requests. Every dashboard endpoint starts here; a refusal is a 401 (no or a
//! wrong key) or a 403 (a virtual key asking for an operator's view) in OpenAI's error shape.

use crate::admin::{error, presented_key};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use switchyard_gateway::{Caller, Gateway};

/// The signed-in viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// The master key (or, with no master key set, `[strategy] api = true` on a trusted
    /// machine): every key, route and workload.
    Master,
    /// A virtual key: its own rows only.
    Key(String),
}

impl Viewer {
    /// The key to restrict every read to, if any.
    pub fn key_id(&self) -> Option<&str> {
        match self {
            Viewer::Master => None,
            Viewer::Key(id) => Some(id),
        }
    }
}

/// The viewer behind the request's key, or the response refusing it.
pub fn identify(gw: &Gateway, headers: &HeaderMap) -> Result<Viewer, Box<Response>> {
    let presented = presented_key(headers);
    let mut ctx = crate::openai::context(headers);
    match gw.check_caller(&mut ctx, presented) {
        Ok(()) => {}
        Err(e) => return Err(Box::new(unauthorized(&e.to_string()))),
    }
    match ctx.caller {
        Caller::Master => Ok(Viewer::Master),
        Caller::Key(_) => ctx
            .key_id
            .map(Viewer::Key)
            .ok_or_else(|| Box::new(unauthorized("The key has no id."))),
        Caller::Open if gw.master_key().is_none() && gw.strategy_api() => Ok(Viewer::Master),
        Caller::Open if gw.master_key().is_none() => Err(Box::new(error(
            StatusCode::NOT_FOUND,
            "not_found_error",
            "The dashboard API is off: set a master key (SWITCHYARD_MASTER_KEY) to sign in with it, or `[strategy] api = true` to serve it openly on a trusted machine.",
        ))),
        Caller::Open => Err(Box::new(unauthorized(match presented {
            None => {
                "The dashboard needs a key: send the master key or a virtual key as `Authorization: Bearer <key>`."
            }
            Some(_) => {
                "The key presented is neither the master key nor a virtual key of this gateway."
            }
        }))),
    }
}

/// [`identify`], refusing a virtual key with 403: the view is the operator's.
pub fn master_only(gw: &Gateway, headers: &HeaderMap) -> Result<(), Box<Response>> {
    match identify(gw, headers)? {
        Viewer::Master => Ok(()),
        Viewer::Key(_) => Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "permission_error",
            "This view needs the master key; a virtual key sees its own spend, budget, limits and requests only.",
        ))),
    }
}

fn unauthorized(message: &str) -> Response {
    error(StatusCode::UNAUTHORIZED, "authentication_error", message)
}
