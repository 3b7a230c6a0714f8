//! Evaluation core: the pure logic of "is the candidate at least as good as the baseline?".
//!
//! Layer 5 beside `strategy`, but it depends on nothing of Switchyard but `protocol` (whose
//! OpenAI reader checks an imported item's input, so a dataset holds only requests the
//! gateway accepts): no HTTP, no gateway, no database. The runner (elsewhere) replays [`dataset`] items through routes, calls
//! judge and embedding models, and stores results; everything here is deterministic
//! computation on what it hands over.
//!
//! - [`dataset`]: items (an OpenAI chat body, what is expected, reference cost and
//!   latency, tags, scorers) and importers for JSON Lines and promptfoo YAML.
//! - [`score`]: scorers (exact, contains, regex, JSON validity and schema, tool calls,
//!   numeric) and the specs, prompts and parsing for LLM judges and embeddings.
//! - [`stats`]: the paired comparison and the pass/fail verdict.
//! - [`redact`]: masking of personal data and secrets before anything is stored.
//!
//! # Statistics
//!
//! Candidate and baseline are scored on the *same* items, so the comparison is paired:
//! each item contributes one difference `d_i = candidate_i - baseline_i`, and what is
//! estimated is the mean of those differences. Its confidence interval is a **percentile
//! bootstrap over items**: resample the `n` items with replacement (10 000 times by
//! default, with a seeded SplitMix64 so a run is reproducible), take the mean difference of
//! each resample, and read the 2.5th and 97.5th percentiles of those means. This assumes
//! only that items are independent draws from the workload, not that scores are normal,
//! which matters for 0/1 scores and small `n`. Pairing cancels the per-item difficulty both
//! systems share, so the interval is much narrower than comparing two independent means.
//!
//! A candidate **passes only when `ci_low > margin`** (the margin defaults to −0.02: at
//! most two points worse). The lower end is the pessimistic plausible value of the true
//! difference; requiring it above the margin means the data rule out a regression larger
//! than the margin at the chosen confidence. Passing on the mean alone would let a noisy,
//! small evaluation wave a real regression through, and an "inconclusive" interval is a
//! failure too, with a reason that says more items would narrow it. Cost and latency deltas
//! are summarised, not gated, by [`stats::distribution`] (nearest-rank percentiles).
//!
//! # Redaction
//!
//! [`redact::Redactor`] masks emails, phone numbers, Luhn-valid card numbers and API-key
//! shaped secrets (known prefixes, JWTs, long tokens after words like "token"), plus custom
//! patterns, in text and in every string of a JSON document. A masked value is replaced
//! whole, so none of its characters survive. It is a pattern matcher, not a guarantee of
//! anonymity: names, postal addresses, secrets without a recognisable shape, bare 10-digit
//! phone numbers and card numbers that fail the Luhn check are left as they are; a long
//! digit string that happens to pass Luhn is masked as a card. See the module for the list.

pub mod dataset;
pub mod redact;
pub mod score;
pub mod stats;

pub use dataset::{DatasetItem, import_jsonl, import_promptfoo};
pub use redact::Redactor;
pub use score::{
    Expected, JudgeSpec, Output, Score, Scorer, ScorerSpec, ToolCall, combine_swapped, cosine,
    judge_prompt, parse_rubric_score, parse_verdict, rubric_prompt,
};
pub use stats::{
    DEFAULT_MARGIN, Distribution, Outcome, PairedSummary, StatsOptions, Verdict, distribution,
    paired, verdict,
};
