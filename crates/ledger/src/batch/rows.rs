//! The rows of the batch tables as Rust values: files, jobs with their counts and stamps, lines.

/// A stored file, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub id: String,
    /// The key id that uploaded it (or whose batch produced it); `None` on an open gateway.
    pub owner: Option<String>,
    pub purpose: String,
    pub filename: String,
    pub bytes: u64,
    /// Unix seconds.
    pub created_at: i64,
}

/// How a line ended, or that it has not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineState {
    Pending,
    /// Answered with a 2xx: its result goes to the output file.
    Ok,
    /// Refused when the batch was created, or answered with an error: the error file.
    Failed,
}

impl LineState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LineState::Pending => "pending",
            LineState::Ok => "ok",
            LineState::Failed => "failed",
        }
    }
}

/// One input line as stored when its batch is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    /// 1-based line number in the input file.
    pub line: u64,
    pub custom_id: Option<String>,
    pub state: LineState,
    /// The request body to send (pending lines).
    pub body: Option<String>,
    /// The error-file line (lines refused at creation).
    pub result: Option<String>,
}

/// A line still to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLine {
    pub line: u64,
    pub custom_id: String,
    pub body: String,
    /// The provider batch carrying it, once submitted to one.
    pub upstream: Option<String>,
}

/// Lines of a batch by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
}

impl Counts {
    /// Lines not yet answered.
    pub fn pending(&self) -> u64 {
        self.total.saturating_sub(self.completed + self.failed)
    }
}

/// A batch job as stored. Timestamps are Unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobRow {
    pub id: String,
    pub owner: Option<String>,
    pub endpoint: String,
    pub input_file_id: String,
    pub completion_window: String,
    /// The client's metadata object as JSON text.
    pub metadata: Option<String>,
    pub status: String,
    pub output_file_id: Option<String>,
    pub error_file_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub stamps: Stamps,
    /// The batch-level `errors` object as JSON text.
    pub errors: Option<String>,
    pub counts: Counts,
}

/// When the job entered each later status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamps {
    pub in_progress_at: Option<i64>,
    pub finalizing_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub cancelling_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub expired_at: Option<i64>,
}

/// A status change: the new status and the timestamp column it sets, from a fixed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    InProgress,
    Finalizing,
    Completed,
    Failed,
    Cancelling,
    Cancelled,
    Expired,
}

impl Stamp {
    pub(crate) fn column(self) -> &'static str {
        match self {
            Stamp::InProgress => "in_progress_at",
            Stamp::Finalizing => "finalizing_at",
            Stamp::Completed => "completed_at",
            Stamp::Failed => "failed_at",
            Stamp::Cancelling => "cancelling_at",
            Stamp::Cancelled => "cancelled_at",
            Stamp::Expired => "expired_at",
        }
    }

    /// The status name the change sets (OpenAI's names).
    pub fn status(self) -> &'static str {
        match self {
            Stamp::InProgress => "in_progress",
            Stamp::Finalizing => "finalizing",
            Stamp::Completed => "completed",
            Stamp::Failed => "failed",
            Stamp::Cancelling => "cancelling",
            Stamp::Cancelled => "cancelled",
            Stamp::Expired => "expired",
        }
    }
}

/// A file produced when a batch ends (its output or error file).
pub struct Produced<'a> {
    pub row: FileRow,
    pub content: &'a [u8],
}

/// Who claims lines, the time now and how long the claim holds (Unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The runner's id: unique per process (a restart is a new owner).
    pub owner: String,
    pub now_ms: i64,
    pub lease_until_ms: i64,
}
