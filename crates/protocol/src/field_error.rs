//! A request field that failed validation, named by its JSON path.

use std::fmt;

/// A bad request field: `param` is the JSON path (`messages[2].role`), `message` says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub param: Option<String>,
    pub message: String,
}

impl FieldError {
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            param: Some(param.into()),
            message: message.into(),
        }
    }

    /// The body as a whole is not what was expected (not JSON, not an object).
    pub fn body(message: impl Into<String>) -> Self {
        FieldError {
            param: None,
            message: message.into(),
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
