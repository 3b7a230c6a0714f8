//! The pipeline's named stages and the time each took, for the reply (today the
//! `x-switchyard-overhead-us` figure; per-stage metrics read [`StageTimes`] from the reply).
//!
//! Each mark costs one `Instant::now()`: the time since the previous mark is charged to the
//! stage just finished. Stages that did not run stay at zero.

use std::time::{Duration, Instant};

/// One step of `Pipeline::run`, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The caller's key (master key, virtual key, or an open gateway).
    Authenticate,
    /// Taking the body from the transport, under the size limit.
    ReadBody,
    /// Attribution headers checked, the body parsed into the codec's request.
    Parse,
    /// The route looked up in the live config.
    Resolve,
    /// The exact cache: key and store lookup (a hit is served from here).
    Cache,
    /// The key's route check, rate limits and budget reservation.
    Admit,
    /// The observer's sampling decision (evaluation).
    Sample,
    /// `Route::execute`: fit check, attempts, upstream time until the answer's headers.
    Execute,
    /// Usage read from a whole answer (tokenised when the upstream reported none).
    ReadUsage,
    /// Pricing, the budget settlement and the record completed.
    Settle,
    /// The answer rendered in the client's dialect (translation, stream set-up).
    Render,
    /// The sampled answer handed to the observer.
    Observe,
    /// The record handed to the batching recorder.
    Record,
}

impl Stage {
    pub const ALL: [Stage; 13] = [
        Stage::Authenticate,
        Stage::ReadBody,
        Stage::Parse,
        Stage::Resolve,
        Stage::Cache,
        Stage::Admit,
        Stage::Sample,
        Stage::Execute,
        Stage::ReadUsage,
        Stage::Settle,
        Stage::Render,
        Stage::Observe,
        Stage::Record,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Authenticate => "authenticate",
            Stage::ReadBody => "read_body",
            Stage::Parse => "parse",
            Stage::Resolve => "resolve",
            Stage::Cache => "cache",
            Stage::Admit => "admit",
            Stage::Sample => "sample",
            Stage::Execute => "execute",
            Stage::ReadUsage => "read_usage",
            Stage::Settle => "settle",
            Stage::Render => "render",
            Stage::Observe => "observe",
            Stage::Record => "record",
        }
    }
}

/// The time each stage of one request took.
#[derive(Debug, Clone)]
pub struct StageTimes {
    last: Instant,
    spent: [Duration; Stage::ALL.len()],
}

impl StageTimes {
    /// Starts the clock at `at` (the request's arrival).
    pub fn start(at: Instant) -> Self {
        StageTimes {
            last: at,
            spent: [Duration::ZERO; Stage::ALL.len()],
        }
    }

    /// Charges the time since the previous mark to `stage`.
    pub fn mark(&mut self, stage: Stage) {
        let now = Instant::now();
        self.spent[stage as usize] += now.saturating_duration_since(self.last);
        self.last = now;
    }

    pub fn get(&self, stage: Stage) -> Duration {
        self.spent[stage as usize]
    }

    /// Every stage and its time, in pipeline order.
    pub fn iter(&self) -> impl Iterator<Item = (Stage, Duration)> + '_ {
        Stage::ALL.iter().map(|&s| (s, self.get(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mark_charges_the_time_since_the_previous_one_to_its_stage() {
        let start = Instant::now();
        let mut t = StageTimes::start(start);
        std::thread::sleep(Duration::from_millis(3));
        t.mark(Stage::Parse);
        t.mark(Stage::Resolve);
        assert!(t.get(Stage::Parse) >= Duration::from_millis(3));
        assert!(t.get(Stage::Resolve) < t.get(Stage::Parse));
        assert_eq!(t.get(Stage::Execute), Duration::ZERO);
        let total: Duration = t.iter().map(|(_, d)| d).sum();
        assert!(total <= start.elapsed());
        assert_eq!(t.iter().count(), Stage::ALL.len());
    }
}
