//! Request ids: time-ordered, unique within a process and across restarts.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);
static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// `req_` + 12 hex digits of milliseconds + 6 of process seed + 6 of a counter.
/// Sortable by time, cheap (no syscall beyond the clock), and unique without coordination.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    pub fn generate() -> Self {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let seed = *SEED.get_or_init(|| {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos() as u64)
                .unwrap_or(0);
            (nanos ^ (std::process::id() as u64).rotate_left(20)) & 0xff_ffff
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed) & 0xff_ffff;
        RequestId(format!("req_{ms:012x}{seed:06x}{n:06x}"))
    }

    pub fn from_string(s: String) -> Self {
        RequestId(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_ordered() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_ne!(a, b);
        assert!(a.as_str() < b.as_str());
        assert_eq!(a.as_str().len(), 4 + 24);
    }
}
