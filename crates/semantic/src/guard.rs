//! The agreement rules between two facts signatures: which [`Guard`]s a candidate fails.
//!
//! Each guard is a rule over one part of [`Facts`]: negation presence equal; no polarity group
//! with different poles on the two sides; numbers (with units) equal as multisets, and in the
//! same order when either text has a directional word ("is 3 more than 5"); dates and quoted
//! strings equal as sequences; every entity of each side found among the other side's words
//! (so casing does not matter), in the same order when either side is directional ("from
//! Paris to Rome" is not "from Rome to Paris"); the language equal where both are known.

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
            Guard::Numbers => numbers_agree(a, b),
            Guard::Dates => a.dates == b.dates,
            Guard::Entities => terms_agree(a, b),
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

fn numbers_agree(a: &Facts, b: &Facts) -> bool {
    let strong = |f: &Facts| {
        f.numbers
            .iter()
            .filter(|n| !n.weak)
            .cloned()
            .collect::<Vec<_>>()
    };
    let weak = |f: &Facts| {
        f.numbers
            .iter()
            .filter(|n| n.weak)
            .cloned()
            .collect::<Vec<_>>()
    };
    let (sa, sb) = (strong(a), strong(b));
    let (wa, wb) = (weak(a), weak(b));
    let weak_ok = wa.is_empty() || wb.is_empty() || wa == wb;
    let ordered = a.directional || b.directional;
    weak_ok
        && if ordered {
            sa == sb
        } else {
            same_multiset(&sa, &sb)
        }
}

fn same_multiset<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|x| a.iter().filter(|y| *y == x).count() == b.iter().filter(|y| *y == x).count())
}

/// A term is found in a text when each of its words is among the text's words.
fn found_in(term: &str, words: &[u64]) -> bool {
    let term = term.strip_prefix("unit:").unwrap_or(term);
    term.split(' ')
        .all(|w| words.binary_search(&crate::facts::hash_word(w)).is_ok())
}

fn terms_agree(a: &Facts, b: &Facts) -> bool {
    let contained = |x: &Facts, y: &Facts| {
        x.terms
            .iter()
            .all(|t| found_in(t, &y.words) || y.terms.contains(t))
    };
    if !contained(a, b) || !contained(b, a) {
        return false;
    }
    if !(a.directional || b.directional) {
        return true;
    }
    let common = |x: &Facts, y: &Facts| {
        x.terms
            .iter()
            .filter(|t| y.terms.contains(t))
            .cloned()
            .collect::<Vec<_>>()
    };
    common(a, b) == common(b, a)
}

/// Only a group named on both sides can disagree: "enable" against "turn on" agrees, "enable"
/// against "disable" does not; a group named on one side only says nothing.
fn polarity_agrees(a: &[(u16, u8)], b: &[(u16, u8)]) -> bool {
    let poles = |side: &[(u16, u8)], group: u16| {
        side.iter()
            .filter(|(g, _)| *g == group)
            .fold(0u8, |m, (_, p)| m | (1 << p))
    };
    a.iter().chain(b).all(|(group, _)| {
        let (pa, pb) = (poles(a, *group), poles(b, *group));
        pa == 0 || pb == 0 || pa == pb
    })
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
