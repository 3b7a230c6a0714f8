//! Gemini thought signatures carried inside tool-call ids.
//!
//! Gemini 3 models sign the function calls they make (`thoughtSignature` beside
//! `functionCall`) and refuse a follow-up turn that replays a call without its signature.
//! OpenAI and Anthropic clients have no field for it, but every client sends a call's id back
//! unchanged, with the call and with its result. So the signature travels in the id:
//!
//! `{base}_ts1{check}{kind}{payload}`
//!
//! - `base`: Gemini's own call id, or `call_<n>`, reduced to `[A-Za-z0-9_-]`;
//! - `check`: 8 hex digits, FNV-1a (32 bit) of the signature, so a truncated or edited id is
//!   recognised;
//! - `kind` and `payload`: a standard-base64 signature (Gemini's form) with `+` → `-`,
//!   `/` → `_` and its `=` padding dropped, `kind` the number of `=` (`0`–`2`); any other
//!   signature as `r` and the base64url of its bytes.
//!
//! Every character is in `[A-Za-z0-9_-]`, so the id is valid for the OpenAI SDKs and matches
//! Anthropic's `tool_use` id pattern. Reading an id never fails: one without a well-formed,
//! checksummed suffix (a tampered id, or one from another provider) simply has no signature.
//! Knows nothing of Gemini's wire types; `response`, `stream` and `from_canonical` call it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const MARK: &str = "_ts1";

/// The tool-call id for a call with `base` as its own id and an optional signature.
pub(crate) fn encode_id(base: &str, signature: Option<&str>) -> String {
    let base: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let Some(sig) = signature.filter(|s| !s.is_empty()) else {
        return base;
    };
    let (kind, payload) = match standard_to_url(sig) {
        Some((pad, payload)) => (char::from(b'0' + pad), payload),
        None => ('r', url_encode(sig.as_bytes())),
    };
    format!("{base}{MARK}{:08x}{kind}{payload}", fnv1a(sig.as_bytes()))
}

/// The signature carried by a tool-call id, if it carries a valid one.
pub(crate) fn signature_of(id: &str) -> Option<String> {
    id.match_indices(MARK)
        .find_map(|(at, _)| decode_suffix(&id[at + MARK.len()..]))
}

fn decode_suffix(rest: &str) -> Option<String> {
    let check = u32::from_str_radix(rest.get(..8)?, 16).ok()?;
    let kind = rest.as_bytes().get(8)?;
    let payload = rest.get(9..)?;
    let sig = match kind {
        b'0'..=b'2' => {
            let mut s: String = payload
                .chars()
                .map(|c| match c {
                    '-' => '+',
                    '_' => '/',
                    c => c,
                })
                .collect();
            s.extend(std::iter::repeat_n('=', usize::from(kind - b'0')));
            s
        }
        b'r' => String::from_utf8(url_decode(payload)?).ok()?,
        _ => return None,
    };
    (!sig.is_empty() && fnv1a(sig.as_bytes()) == check).then_some(sig)
}

/// A standard-base64 string as (padding count, URL-safe text without padding); `None` when
/// `s` is not in that alphabet (the mapping would not be reversible).
fn standard_to_url(s: &str) -> Option<(u8, String)> {
    let body = s.trim_end_matches('=');
    let pad = s.len() - body.len();
    if pad > 2 {
        return None;
    }
    let mut out = String::with_capacity(body.len());
    for c in body.chars() {
        out.push(match c {
            '+' => '-',
            '/' => '_',
            c if c.is_ascii_alphanumeric() => c,
            _ => return None,
        });
    }
    Some((pad as u8, out))
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h: u32, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Base64url without padding.
fn url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The inverse of [`url_encode`]; `None` for a character outside the alphabet or a length
/// no encoding produces.
fn url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GEMINI_LIKE: &str = "CiQBcsjafH+k3/0x9Q1w2ZzEGf3Jm8Q7p+Aa/Xg5Q==";

    fn anthropic_pattern(id: &str) -> bool {
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }

    #[test]
    fn a_signature_survives_the_id_round_trip_in_the_anthropic_id_alphabet() {
        for sig in [
            GEMINI_LIKE,
            "abc",
            "abcd",
            "ab==",
            "not base64: ☃ {}",
            "_ts1",
        ] {
            let id = encode_id("call_0", Some(sig));
            assert!(anthropic_pattern(&id), "{id}");
            assert!(id.starts_with("call_0_ts1"), "{id}");
            assert_eq!(signature_of(&id).as_deref(), Some(sig), "{id}");
        }
    }

    #[test]
    fn a_base64_signature_costs_only_its_own_length_plus_thirteen() {
        let id = encode_id("call_0", Some(GEMINI_LIKE));
        assert_eq!(
            id.len(),
            "call_0".len() + 13 + GEMINI_LIKE.trim_end_matches('=').len()
        );
    }

    #[test]
    fn ids_without_a_signature_are_left_alone_and_read_as_unsigned() {
        assert_eq!(encode_id("call_3", None), "call_3");
        assert_eq!(encode_id("call_3", Some("")), "call_3");
        assert_eq!(encode_id("fc/1 x", None), "fc_1_x");
        for foreign in [
            "call_3",
            "toolu_01A09q90qw90lq917835lq9",
            "call_ts1",
            "x_ts1zzzzzzzz0abc",
        ] {
            assert_eq!(signature_of(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn a_tampered_or_truncated_id_degrades_to_no_signature() {
        let id = encode_id("call_0", Some(GEMINI_LIKE));
        let truncated = &id[..id.len() - 3];
        assert_eq!(signature_of(truncated), None);
        let mut edited = id.clone().into_bytes();
        let last = edited.len() - 1;
        edited[last] = if edited[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(signature_of(&String::from_utf8(edited).unwrap()), None);
        assert_eq!(signature_of(&format!("{id}☃")), None);
    }

    #[test]
    fn a_base_that_contains_the_mark_still_finds_the_real_suffix() {
        let id = encode_id("a_ts1b", Some(GEMINI_LIKE));
        assert_eq!(signature_of(&id).as_deref(), Some(GEMINI_LIKE));
    }

    #[test]
    fn base64url_round_trips_every_length() {
        for n in 0..10u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(97) ^ 0xfb).collect();
            assert_eq!(url_decode(&url_encode(&bytes)), Some(bytes));
        }
        assert_eq!(url_decode("A"), None);
        assert_eq!(url_decode("A+"), None);
    }
}
