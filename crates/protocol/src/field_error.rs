//! A request field that failed validation, named by its JSON path.

use std::borrow::Cow;
use std::fmt;

/// The longest message kept: messages quote client values (an unknown role, a serde error's
/// "unknown variant"), and a quote of a megabyte-long value must not become the answer.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// `text` bounded to `max` bytes with control characters escaped, reusing it when it fits.
fn bound(text: String, max: usize) -> String {
    match crate::bounded_to(&text, max) {
        Cow::Borrowed(_) => text,
        Cow::Owned(b) => b,
    }
}

/// A bad request field: `param` is the JSON path (`messages[2].role`), `message` says how to fix it.
/// Both are bounded (the path to [`crate::MAX_TEXT_BYTES`], the message to [`MAX_MESSAGE_BYTES`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub param: Option<String>,
    pub message: String,
}

impl FieldError {
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            param: Some(bound(param.into(), crate::MAX_TEXT_BYTES)),
            message: bound(message.into(), MAX_MESSAGE_BYTES),
        }
    }

    /// The body as a whole is not what was expected (not JSON, not an object).
    pub fn body(message: impl Into<String>) -> Self {
        FieldError {
            param: None,
            message: bound(message.into(), MAX_MESSAGE_BYTES),
        }
    }

    /// Wraps a serde error for the value at `path`, dropping serde's line/column noise,
    /// which points into the sub-document and would only mislead.
    pub fn from_serde(path: &str, err: &serde_json::Error) -> Self {
        let text = err.to_string();
        let text = match text.find(" at line ") {
            Some(i) => &text[..i],
            None => &text,
        };
        FieldError::new(path, format!("`{path}` is invalid: {text}"))
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FieldError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_quoting_huge_values_are_bounded() {
        let huge = "r".repeat(100_000);
        let e = FieldError::new(format!("a.{huge}"), format!("not {huge:?}\0"));
        assert!(e.message.len() <= MAX_MESSAGE_BYTES && e.message.ends_with('…'));
        assert!(e.param.is_some_and(|p| p.len() <= crate::MAX_TEXT_BYTES));
        let short = FieldError::new("model", "`model` is required.");
        assert_eq!(short.message, "`model` is required.");
    }
}
