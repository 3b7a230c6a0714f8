//! Client-supplied text that the gateway stores or echoes: bounded in length and free of
//! control characters, and the rule for identifiers (route names, workloads, tag keys), which
//! may not contain control characters at all.
//!
//! A request may carry megabytes in a field the gateway records (an unknown `model`, a tag);
//! the ledger, the eval store and error messages keep at most [`MAX_TEXT_BYTES`] of it.

use crate::FieldError;
use std::borrow::Cow;
use std::fmt::Write as _;

/// The most bytes of one client-supplied string that is recorded or echoed.
pub const MAX_TEXT_BYTES: usize = 256;

/// Marks text cut at [`MAX_TEXT_BYTES`].
pub const TRUNCATED: &str = "…";

/// `s` as it may be stored or echoed: control characters written as `\u{…}` escapes, and
/// cut at a char boundary so the result, [`TRUNCATED`] included, is at most
/// [`MAX_TEXT_BYTES`] bytes. Text that needs neither is borrowed unchanged.
pub fn bounded(s: &str) -> Cow<'_, str> {
    bounded_to(s, MAX_TEXT_BYTES)
}

/// [`bounded`] with another byte limit (at least the marker's length).
pub fn bounded_to(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max && !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let room = max.saturating_sub(TRUNCATED.len());
    let mut out = String::with_capacity(max);
    let mut cut = false;
    let mut piece = String::new();
    for c in s.chars() {
        piece.clear();
        if c.is_control() {
            let _ = write!(piece, "\\u{{{:x}}}", u32::from(c));
        } else {
            piece.push(c);
        }
        if out.len() + piece.len() > room {
            cut = true;
            break;
        }
        out.push_str(&piece);
    }
    // Text that only needed escaping may still fit whole without the marker.
    if cut {
        out.push_str(TRUNCATED);
    }
    Cow::Owned(out)
}

/// Refuses an identifier holding a control character (NUL, a line break, a tab, DEL, …),
/// naming the field and the character's position, without echoing the value.
pub fn check_identifier(param: &str, value: &str) -> Result<(), FieldError> {
    match value.char_indices().find(|(_, c)| c.is_control()) {
        None => Ok(()),
        Some((at, c)) => Err(FieldError::new(
            param,
            format!(
                "`{param}` contains the control character U+{:04X} at byte {at}; names may hold printable characters only.",
                u32::from(c)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_at_a_char_boundary_and_marked() {
        let s = "é".repeat(1000);
        let b = bounded(&s);
        assert!(b.len() <= MAX_TEXT_BYTES, "{}", b.len());
        assert!(b.ends_with(TRUNCATED));
        assert!(b.trim_end_matches(TRUNCATED).chars().all(|c| c == 'é'));
    }

    #[test]
    fn control_characters_are_escaped_and_short_text_is_kept() {
        assert_eq!(bounded("gpt-4o"), "gpt-4o");
        assert!(matches!(bounded("gpt-4o"), Cow::Borrowed(_)));
        assert_eq!(bounded("a\0b\n"), "a\\u{0}b\\u{a}");
        let nul = "\0".repeat(MAX_TEXT_BYTES);
        let b = bounded(&nul);
        assert!(b.len() <= MAX_TEXT_BYTES && b.ends_with(TRUNCATED));
        assert!(!b.contains('\0'));
    }

    #[test]
    fn identifiers_with_control_characters_are_refused_without_echo() {
        assert!(check_identifier("model", "gpt-4o mini/β").is_ok());
        let e = check_identifier("model", "gpt\0-4o").unwrap_err();
        assert_eq!(e.param.as_deref(), Some("model"));
        assert!(e.message.contains("U+0000") && e.message.contains("byte 3"));
        assert!(check_identifier("x-switchyard-workload", "a\tb").is_err());
        assert!(check_identifier("model", "a\u{7f}").is_err());
    }
}
