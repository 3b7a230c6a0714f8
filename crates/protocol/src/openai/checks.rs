//! Type and range checks for the Chat Completions members the gateway models but does not
//! read: sampling, log probabilities, `logit_bias`, `metadata`, and the plain-typed options.
//! Each refusal names the member (OpenAI's `param`) and says what would be accepted, so a
//! body the upstream would refuse is refused here, before any routing or spend.

use super::raw::RawObject;
use crate::FieldError;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// OpenAI's range for `top_logprobs`.
const MAX_TOP_LOGPROBS: u64 = 20;
/// OpenAI's bounds for `metadata`: 16 pairs, keys up to 64 and values up to 512 characters.
const METADATA_LIMITS: (usize, usize, usize) = (16, 64, 512);

/// Checks every sampling and plain-typed member; returns the output limit
/// (`max_completion_tokens`, else `max_tokens`).
pub(super) fn sampling(raw: &RawObject<'_>) -> Result<Option<u64>, FieldError> {
    range_f64(raw, "temperature", 0.0, 2.0)?;
    range_f64(raw, "top_p", 0.0, 1.0)?;
    range_f64(raw, "presence_penalty", -2.0, 2.0)?;
    range_f64(raw, "frequency_penalty", -2.0, 2.0)?;
    let max_tokens = positive_int(raw, "max_tokens")?;
    let max_completion = positive_int(raw, "max_completion_tokens")?;
    if positive_int(raw, "n")?.is_some_and(|n| n > 128) {
        return Err(FieldError::new("n", "`n` must be at most 128."));
    }
    raw.decode::<i64>("seed")?;
    for key in ["parallel_tool_calls", "store"] {
        raw.decode::<bool>(key)?;
    }
    for key in [
        "user",
        "reasoning_effort",
        "service_tier",
        "verbosity",
        "prompt_cache_key",
        "safety_identifier",
    ] {
        raw.decode::<Cow<str>>(key)?;
    }
    raw.decode::<Vec<Cow<str>>>("modalities")?;
    for key in ["audio", "prediction", "web_search_options"] {
        object(raw, key)?;
    }
    raw.decode::<Vec<&RawValue>>("functions")?;
    if raw
        .get("function_call")
        .is_some_and(|v| !v.get().starts_with(['"', '{']))
    {
        return Err(FieldError::new(
            "function_call",
            "`function_call` must be \"none\", \"auto\" or {\"name\": …}.",
        ));
    }
    stop(raw)?;
    logprobs(raw)?;
    logit_bias(raw)?;
    metadata(raw)?;
    Ok(max_completion.or(max_tokens))
}

/// `stop`: one sequence or a list of up to four, the one wire model of the member (the
/// canonical conversion reads it too).
pub(crate) enum Stop<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

/// `stop`, checked: a string or an array of at most 4 strings.
pub(crate) fn stop<'a>(raw: &RawObject<'a>) -> Result<Option<Stop<'a>>, FieldError> {
    let Some(v) = raw.get("stop") else {
        return Ok(None);
    };
    if v.get().starts_with('"') {
        return Ok(raw.decode::<Cow<str>>("stop")?.map(Stop::One));
    }
    let list: Vec<Cow<'a, str>> = serde_json::from_str(v.get()).map_err(|_| {
        FieldError::new(
            "stop",
            "`stop` must be a string or an array of up to 4 strings.",
        )
    })?;
    if list.len() > 4 {
        return Err(FieldError::new("stop", "`stop` takes at most 4 sequences."));
    }
    Ok(Some(Stop::Many(list)))
}

/// `logprobs` is a boolean; `top_logprobs` an integer in 0..=20 that needs `logprobs: true`.
fn logprobs(raw: &RawObject<'_>) -> Result<(), FieldError> {
    let on = raw.decode::<bool>("logprobs")?.unwrap_or(false);
    let Some(top) = raw.get("top_logprobs") else {
        return Ok(());
    };
    let top: u64 = serde_json::from_str(top.get())
        .ok()
        .filter(|n| *n <= MAX_TOP_LOGPROBS)
        .ok_or_else(|| {
            FieldError::new(
                "top_logprobs",
                format!("`top_logprobs` must be an integer from 0 to {MAX_TOP_LOGPROBS}."),
            )
        })?;
    if !on {
        return Err(FieldError::new(
            "top_logprobs",
            format!("`top_logprobs` ({top}) needs `logprobs` set to true."),
        ));
    }
    Ok(())
}

/// `logit_bias`: an object from token ids (as strings) to biases in -100..=100.
fn logit_bias(raw: &RawObject<'_>) -> Result<(), FieldError> {
    let Some(v) = raw.get("logit_bias") else {
        return Ok(());
    };
    let shape = || {
        FieldError::new(
            "logit_bias",
            "`logit_bias` must be an object mapping token ids to numbers from -100 to 100, e.g. {\"50256\": -100}.",
        )
    };
    let map: BTreeMap<Cow<str>, &RawValue> = serde_json::from_str(v.get()).map_err(|_| shape())?;
    for (token, bias) in map {
        if token.parse::<u32>().is_err() {
            return Err(FieldError::new(
                "logit_bias",
                format!(
                    "`logit_bias` keys must be token ids such as \"50256\"; got {:?}.",
                    crate::bounded(&token)
                ),
            ));
        }
        let ok =
            serde_json::from_str::<f64>(bias.get()).is_ok_and(|b| (-100.0..=100.0).contains(&b));
        if !ok {
            return Err(FieldError::new(
                "logit_bias",
                format!("`logit_bias[\"{token}\"]` must be a number from -100 to 100."),
            ));
        }
    }
    Ok(())
}

fn metadata(raw: &RawObject<'_>) -> Result<(), FieldError> {
    let Some(meta) = raw.decode::<BTreeMap<Cow<str>, Cow<str>>>("metadata")? else {
        return Ok(());
    };
    let (pairs, key_len, value_len) = METADATA_LIMITS;
    if meta.len() > pairs {
        return Err(FieldError::new(
            "metadata",
            format!("`metadata` takes at most {pairs} keys."),
        ));
    }
    if meta
        .iter()
        .any(|(k, v)| k.chars().count() > key_len || v.chars().count() > value_len)
    {
        return Err(FieldError::new(
            "metadata",
            format!(
                "`metadata` keys may hold at most {key_len} characters and values {value_len}."
            ),
        ));
    }
    Ok(())
}

/// A member that must be a JSON object when present.
pub(super) fn object(raw: &RawObject<'_>, key: &str) -> Result<(), FieldError> {
    match raw.get(key) {
        Some(v) if !v.get().starts_with('{') => Err(FieldError::new(
            key,
            format!("`{key}` must be a JSON object."),
        )),
        _ => Ok(()),
    }
}

fn range_f64(raw: &RawObject<'_>, key: &str, lo: f64, hi: f64) -> Result<Option<f64>, FieldError> {
    match raw.decode::<f64>(key)? {
        Some(v) if !(lo..=hi).contains(&v) => Err(FieldError::new(
            key,
            format!("`{key}` must be between {lo} and {hi}; got {v}."),
        )),
        v => Ok(v),
    }
}

fn positive_int(raw: &RawObject<'_>, key: &str) -> Result<Option<u64>, FieldError> {
    match raw.decode::<u64>(key)? {
        Some(0) => Err(FieldError::new(key, format!("`{key}` must be at least 1."))),
        v => Ok(v),
    }
}
