//! The agreement rules between two facts signatures: which [`Guard`]s a candidate fails.
//!
//! Each guard is a rule over one part of [`Facts`]: negation presence equal; no polarity group
//! with different poles on the two sides; numbers (with units), dates, terms and quoted strings
//! equal as sequences (order matters: "from Paris to Rome" is not "from Rome to Paris"); the
//! language equal where both sides' language is known.

use crate::facts::Facts;
use std::fmt;

/// One rule a candidate must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    Negation,
    Polarity,
    Numbers,
    Dates,
    Entities,
    Quoted,
    Language,
}

impl Guard {
    /// Every guard, in the order they are checked and reported.
    pub const ALL: [Guard; 7] = [
        Guard::Negation,
        Guard::Polarity,
        Guard::Numbers,
        Guard::Dates,
        Guard::Entities,
        Guard::Quoted,
        Guard::Language,
    ];

    /// The name logs and headers use.
    pub fn name(self) -> &'static str {
        match self {
            Guard::Negation => "negation",
            Guard::Polarity => "polarity",
            Guard::Numbers => "numbers",
            Guard::Dates => "dates",
            Guard::Entities => "entities",
            Guard::Quoted => "quoted",
            Guard::Language => "language",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    fn agrees(self, a: &Facts, b: &Facts) -> bool {
        match self {
            Guard::Negation => a.negated == b.negated,
            Guard::Polarity => polarity_agrees(&a.polarity, &b.polarity),
            Guard::Numbers => a.numbers == b.numbers,
            Guard::Dates => a.dates == b.dates,
            Guard::Entities => a.terms == b.terms,
            Guard::Quoted => a.quoted == b.quoted,
            Guard::Language => match (a.language, b.language) {
                (Some(x), Some(y)) => x == y,
                _ => true,
            },
        }
    }
}

/// A set of guards (the ones a candidate failed).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct GuardSet(u8);

impl GuardSet {
    /// No guard failed.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, guard: Guard) -> bool {
        self.0 & guard.bit() != 0
    }

    pub fn insert(&mut self, guard: Guard) {
        self.0 |= guard.bit();
    }

    /// The guards in the set, in [`Guard::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Guard> {
        Guard::ALL.into_iter().filter(move |g| self.contains(*g))
    }
}

impl fmt::Debug for GuardSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Guard::name)).finish()
    }
}

impl fmt::Display for GuardSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Guard::name).collect();
        f.write_str(&names.join(","))
    }
}

/// The guards `candidate` fails against `query` (empty: they agree).
pub fn check(query: &Facts, candidate: &Facts) -> GuardSet {
    let mut failed = GuardSet::default();
    for guard in Guard::ALL {
        if !guard.agrees(query, candidate) {
            failed.insert(guard);
        }
    }
    failed
}

/// Only a group named on both sides can disagree: "enable" against "turn on" agrees, "enable"
/// against "disable" does not; a group named on one side only says nothing.
fn polarity_agrees(a: &[(u16, u8)], b: &[(u16, u8)]) -> bool {
    let poles = |side: &[(u16, u8)], group: u16| {
        side.iter().filter(|(g, _)| *g == group).fold(0u8, |m, (_, p)| m | (1 << p))
    };
    a.iter().chain(b).all(|(group, _)| {
        let (pa, pb) = (poles(a, *group), poles(b, *group));
        pa == 0 || pb == 0 || pa == pb
    })
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
