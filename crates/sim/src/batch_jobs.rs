//! The state the simulated Anthropic Message Batches and Gemini batch mode share: each job's
//! requests, answered when it is created (through the simulated live endpoint, so faults,
//! latency, usage and `/sim/stats` are those of live calls), then revealed by polls.
//!
//! A job runs for its first `batch_polls` polls and has ended after. A cancel while it runs
//! ends it as a real provider would part-way through: the first half of its requests (rounded
//! down) count as processed before the cancel and keep their answers, the rest are cancelled.
//! `/sim/stats` counts jobs under `batches` and cancels under `batch_cancels`.

use crate::Sim;
use serde_json::Value;
use std::collections::HashMap;

/// One request of a job: its key (`custom_id`, or Gemini's `metadata`) and its answer.
#[derive(Clone)]
pub(crate) struct Answer {
    pub key: Value,
    pub status: u16,
    pub body: Value,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Running,
    /// Cancelled while running; ended from the next poll on.
    Canceling,
    Ended,
}

/// A job as a poll sees it.
#[derive(Clone)]
pub(crate) struct View {
    pub id: String,
    pub model: String,
    pub phase: Phase,
    pub cancelled: bool,
    /// Every request's answer, `None` for one cancelled before it was processed.
    pub answers: Vec<(Value, Option<(u16, Value)>)>,
}

impl View {
    /// Requests answered with a 2xx, answered otherwise, and cancelled.
    pub fn counts(&self) -> (usize, usize, usize) {
        let ok = |s: u16| (200..300).contains(&s);
        let answered = self.answers.iter().filter_map(|(_, a)| a.as_ref());
        let succeeded = answered.clone().filter(|(s, _)| ok(*s)).count();
        let errored = answered.filter(|(s, _)| !ok(*s)).count();
        (succeeded, errored, self.answers.len() - succeeded - errored)
    }
}

struct Job {
    model: String,
    answers: Vec<Answer>,
    polls: u32,
    cancelled: bool,
}

/// Every job by id.
#[derive(Default)]
pub(crate) struct Jobs {
    jobs: HashMap<String, Job>,
    next: u64,
}

fn with<T>(sim: &Sim, f: impl FnOnce(&mut Jobs) -> T) -> T {
    let mut j = sim.jobs.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut j)
}

fn view(id: &str, job: &Job, phase: Phase) -> View {
    let processed = if job.cancelled {
        job.answers.len() / 2
    } else {
        job.answers.len()
    };
    let answers = job.answers.iter().enumerate();
    View {
        id: id.to_string(),
        model: job.model.clone(),
        phase,
        cancelled: job.cancelled,
        answers: answers
            .map(|(i, a)| {
                let kept =
                    (i < processed || phase == Phase::Running).then(|| (a.status, a.body.clone()));
                (a.key.clone(), kept)
            })
            .collect(),
    }
}

/// Stores a new job (its requests already answered); returns its id, `{prefix}sim{n}`.
pub(crate) fn create(sim: &Sim, prefix: &str, model: &str, answers: Vec<Answer>) -> View {
    sim.count("batches");
    with(sim, |j| {
        j.next += 1;
        let id = format!("{prefix}sim{}", j.next);
        let job = Job {
            model: model.to_string(),
            answers,
            polls: 0,
            cancelled: false,
        };
        let v = view(&id, &job, Phase::Running);
        j.jobs.insert(id, job);
        v
    })
}

/// One poll: the job's phase after it (`None`: no such job).
pub(crate) fn poll(sim: &Sim, id: &str) -> Option<View> {
    let wait = sim.config.batch_polls;
    with(sim, |j| {
        let job = j.jobs.get_mut(id)?;
        job.polls = job.polls.saturating_add(1);
        let phase = if job.cancelled || job.polls > wait {
            Phase::Ended
        } else {
            Phase::Running
        };
        Some(view(id, job, phase))
    })
}

/// The job as it stands, without counting a poll.
pub(crate) fn peek(sim: &Sim, id: &str) -> Option<View> {
    let wait = sim.config.batch_polls;
    with(sim, |j| {
        let job = j.jobs.get(id)?;
        let ended = job.cancelled || job.polls > wait;
        Some(view(
            id,
            job,
            if ended { Phase::Ended } else { Phase::Running },
        ))
    })
}

/// Cancels a running job (an ended one is answered as it is).
pub(crate) fn cancel(sim: &Sim, id: &str) -> Option<View> {
    sim.count("batch_cancels");
    let wait = sim.config.batch_polls;
    with(sim, |j| {
        let job = j.jobs.get_mut(id)?;
        if job.cancelled || job.polls > wait {
            return Some(view(id, job, Phase::Ended));
        }
        job.cancelled = true;
        Some(view(id, job, Phase::Canceling))
    })
}
