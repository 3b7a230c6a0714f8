//! The batch API's errors: what the caller did wrong (and how to fix it) or what failed here.

/// One failure of a files or batches operation, mapped to a status by [`BatchError::status`].
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A file or batch that does not exist, or that belongs to another key (the two are not
    /// told apart, so ids of other keys' objects are not revealed).
    #[error("No {what} with id {id:?} exists for this key.")]
    NotFound { what: &'static str, id: String },
    /// The request is wrong; `param` names the field.
    #[error("{message}")]
    Invalid {
        message: String,
        param: Option<&'static str>,
    },
    /// The batch is not in a state that allows the operation (e.g. cancelling a completed one).
    #[error("{0}")]
    Conflict(String),
    /// The upload is larger than `[batch] max_file_bytes`.
    #[error(
        "The file is larger than the {limit}-byte limit for uploads. Split it into smaller files, or raise [batch] max_file_bytes."
    )]
    TooLarge { limit: usize },
    /// The ledger's database could not be read or written.
    #[error(
        "The batch store failed: {0}. Check the ledger's database: the file's disk and permissions, or that the PostgreSQL server is reachable."
    )]
    Store(String),
}

impl BatchError {
    pub fn status(&self) -> u16 {
        match self {
            BatchError::NotFound { .. } => 404,
            BatchError::Invalid { .. } => 400,
            BatchError::Conflict(_) => 409,
            BatchError::TooLarge { .. } => 413,
            BatchError::Store(_) => 500,
        }
    }

    /// OpenAI's error `type` for this failure.
    pub fn kind(&self) -> &'static str {
        match self {
            BatchError::Store(_) => "server_error",
            _ => "invalid_request_error",
        }
    }

    pub fn param(&self) -> Option<&'static str> {
        match self {
            BatchError::Invalid { param, .. } => *param,
            _ => None,
        }
    }

    pub(crate) fn invalid(param: &'static str, message: impl Into<String>) -> Self {
        BatchError::Invalid {
            message: message.into(),
            param: Some(param),
        }
    }
}

impl From<switchyard_ledger::LedgerError> for BatchError {
    fn from(e: switchyard_ledger::LedgerError) -> Self {
        BatchError::Store(e.to_string())
    }
}
