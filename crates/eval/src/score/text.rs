//! Scorers over the output text: exact, contains, regex and numeric.

use super::Score;
use regex::Regex;
use std::sync::LazyLock;

/// How [`exact`] and the contains scorers normalise text before comparing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextMatch {
    /// Compare with leading and trailing whitespace removed.
    pub trim: bool,
    /// Compare case-insensitively (Unicode lower case).
    pub case_insensitive: bool,
}

impl TextMatch {
    fn normalise(self, text: &str) -> String {
        let text = if self.trim { text.trim() } else { text };
        if self.case_insensitive {
            text.to_lowercase()
        } else {
            text.to_owned()
        }
    }
}

/// The output equals `expected` (after the normalisation in `how`).
pub fn exact(output: &str, expected: &str, how: TextMatch) -> Score {
    if how.normalise(output) == how.normalise(expected) {
        Score::pass("output equals the expected text")
    } else {
        Score::fail(format!(
            "expected {:?}, got {:?}",
            clip(expected),
            clip(output)
        ))
    }
}

/// Every needle occurs in the output; the value is the fraction found.
pub fn contains_all(output: &str, needles: &[String], case_insensitive: bool) -> Score {
    let how = TextMatch {
        trim: false,
        case_insensitive,
    };
    let haystack = how.normalise(output);
    let missing: Vec<&String> = needles
        .iter()
        .filter(|n| !haystack.contains(&how.normalise(n)))
        .collect();
    if missing.is_empty() {
        return Score::pass(format!("all {} expected substrings found", needles.len()));
    }
    let found = needles.len() - missing.len();
    Score {
        value: found as f64 / needles.len() as f64,
        passed: false,
        detail: format!("missing {missing:?}"),
    }
}

/// At least one needle occurs in the output.
pub fn contains_any(output: &str, needles: &[String], case_insensitive: bool) -> Score {
    let how = TextMatch {
        trim: false,
        case_insensitive,
    };
    let haystack = how.normalise(output);
    match needles
        .iter()
        .find(|n| haystack.contains(&how.normalise(n)))
    {
        Some(hit) => Score::pass(format!("found {hit:?}")),
        None => Score::fail(format!("none of {needles:?} found")),
    }
}

/// The regex matches somewhere in the output (anchor it with `^…$` for a full match).
pub fn regex_match(output: &str, regex: &Regex) -> Score {
    match regex.find(output) {
        Some(m) => Score::pass(format!("matched {:?}", clip(m.as_str()))),
        None => Score::fail(format!("/{}/ does not match the output", regex.as_str())),
    }
}

/// Tolerances of [`numeric`]; the output passes when it is within either.
/// With neither set, the numbers must be equal to within 1e-9.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tolerance {
    pub abs: Option<f64>,
    pub rel: Option<f64>,
}

static NUMBER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"[-+]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9]+",
    )
    .ok()
});

/// The first number in `text` (thousands separators `,` allowed, exponent allowed).
pub fn first_number(text: &str) -> Option<f64> {
    let m = NUMBER.as_ref()?.find(text)?;
    m.as_str().replace(',', "").parse().ok()
}

/// The first number in the output is within tolerance of `expected`.
pub fn numeric(output: &str, expected: f64, tolerance: Tolerance) -> Score {
    let Some(got) = first_number(output) else {
        return Score::fail(format!(
            "no number in the output {:?}; expected {expected}",
            clip(output)
        ));
    };
    let diff = (got - expected).abs();
    let within_abs = tolerance.abs.is_some_and(|t| diff <= t);
    let within_rel = tolerance
        .rel
        .is_some_and(|t| diff <= t * expected.abs().max(f64::MIN_POSITIVE));
    let exact = tolerance.abs.is_none() && tolerance.rel.is_none() && diff <= 1e-9;
    if within_abs || within_rel || exact {
        Score::pass(format!("{got} is within tolerance of {expected}"))
    } else {
        Score::fail(format!(
            "{got} differs from {expected} by {diff}, beyond {tolerance:?}"
        ))
    }
}

/// At most 200 characters of `text`, so details stay readable.
pub(crate) fn clip(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
