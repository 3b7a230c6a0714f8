//! Masking of personal data and secrets in text and JSON before it is stored or shown.
//!
//! Built-in masks, applied in this order (custom patterns first):
//!
//! | mask | what |
//! |---|---|
//! | `[REDACTED]` | each custom pattern given to [`Redactor::new`] |
//! | `[SECRET]` | JWTs; `sk-…` (OpenAI, `sk-ant-…` Anthropic), `AIza…` (Google), `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_` (GitHub), `xoxb-`/`xoxp-`/`xoxa-`/`xoxr-`/`xoxs-` (Slack), `AKIA`/`ASIA` (AWS) keys; and any run of ≥ 32 base64/hex characters that follows the word key, token, secret, bearer or password (the word is kept) |
//! | `[EMAIL]` | addresses `local@domain.tld` |
//! | `[CARD]` | 13–19 digits, optionally grouped by single spaces or dashes, that pass the Luhn check |
//! | `[PHONE]` | `+` and a country code followed by 7–15 digits in groups; US numbers `(555) 123-4567`, `555-123-4567`, `555.123.4567`, `+1 555 123 4567` |
//!
//! Guarantees: a match is replaced whole, so no character of a masked value survives.
//! Limits (by design, to keep ordinary text intact): a bare run of 10 digits is not taken
//! for a phone number; a digit string that fails the Luhn check is not a card; a token
//! shorter than 32 characters after "token" is not masked unless it has a known prefix;
//! names, addresses and other free-form personal data are not detected. Roughly one in ten
//! long digit strings (a 16-digit order number, a 14-digit timestamp) passes Luhn by chance
//! and is masked as `[CARD]`.

use regex::{Captures, Regex};
use serde_json::Value;

/// A compiled set of masks.
#[derive(Debug, Clone)]
pub struct Redactor {
    custom: Vec<Regex>,
    builtin: Builtin,
}

#[derive(Debug, Clone)]
struct Builtin {
    prefixed_secret: Regex,
    keyword_secret: Regex,
    email: Regex,
    card: Regex,
    intl_phone: Regex,
    us_phone: Regex,
}

/// A custom pattern that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("redaction pattern {index} (/{pattern}/) is invalid: {message}")]
pub struct RedactError {
    pub index: usize,
    pub pattern: String,
    pub message: String,
}

const PREFIXED_SECRET: &str = concat!(
    r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
    r"|\bsk-[A-Za-z0-9_-]{16,}",
    r"|\bAIza[0-9A-Za-z_-]{30,}",
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}",
    r"|\bgithub_pat_[A-Za-z0-9_]{22,}",
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}",
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
);
const KEYWORD_SECRET: &str = concat!(
    r"(?i)(key|token|secret|bearer|password|passwd)s?",
    r#"((?:["']?\s*[:=]\s*["']?)|\s+(?:is\s+)?)"#,
    r"([A-Za-z0-9+/_.~-]{32,}=*)",
);
const EMAIL: &str = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}";
const CARD: &str = r"\b\d(?:[ -]?\d){12,18}\b";
const INTL_PHONE: &str = r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)|\d{1,4})(?:[ .-]?\d{2,4}){1,4}\b";
const US_PHONE: &str = r"(?:\b1[ .-])?(?:\(\d{3}\)[ .-]?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b";

fn compile(pattern: &str) -> Result<Regex, RedactError> {
    Regex::new(pattern).map_err(|e| RedactError {
        index: 0,
        pattern: pattern.to_owned(),
        message: e.to_string(),
    })
}

impl Redactor {
    /// Compiles the built-in masks plus `custom_patterns` (Rust regex syntax, each match
    /// replaced by `[REDACTED]`). Fails on the first pattern that does not compile.
    pub fn new(custom_patterns: &[String]) -> Result<Self, RedactError> {
        let custom = custom_patterns
            .iter()
            .enumerate()
            .map(|(index, p)| compile(p).map_err(|e| RedactError { index, ..e }))
            .collect::<Result<Vec<_>, _>>()?;
        let builtin = Builtin {
            prefixed_secret: compile(PREFIXED_SECRET)?,
            keyword_secret: compile(KEYWORD_SECRET)?,
            email: compile(EMAIL)?,
            card: compile(CARD)?,
            intl_phone: compile(INTL_PHONE)?,
            us_phone: compile(US_PHONE)?,
        };
        Ok(Self { custom, builtin })
    }

    /// `text` with every match masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for re in &self.custom {
            out = re.replace_all(&out, "[REDACTED]").into_owned();
        }
        let b = &self.builtin;
        out = b.prefixed_secret.replace_all(&out, "[SECRET]").into_owned();
        out = b
            .keyword_secret
            .replace_all(&out, |c: &Captures<'_>| {
                format!("{}{}[SECRET]", &c[1], &c[2])
            })
            .into_owned();
        out = b.email.replace_all(&out, "[EMAIL]").into_owned();
        out = b
            .card
            .replace_all(&out, |c: &Captures<'_>| {
                if is_card(&c[0]) {
                    "[CARD]".to_owned()
                } else {
                    c[0].to_owned()
                }
            })
            .into_owned();
        out = b
            .intl_phone
            .replace_all(&out, |c: &Captures<'_>| {
                let digits = c[0].bytes().filter(u8::is_ascii_digit).count();
                if (8..=15).contains(&digits) {
                    "[PHONE]".to_owned()
                } else {
                    c[0].to_owned()
                }
            })
            .into_owned();
        b.us_phone.replace_all(&out, "[PHONE]").into_owned()
    }

    /// Masks every string value in a JSON document, in place; object keys are left alone.
    pub fn redact_json(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                let masked = self.redact(s);
                if masked != *s {
                    *s = masked;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_json(v)),
            _ => {}
        }
    }
}

/// 13–19 digits passing the Luhn checksum.
fn is_card(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
