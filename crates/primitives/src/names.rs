//! "Did you mean": the known names closest to a misspelt one, for error messages.
//!
//! Owns the ranking only (edit distance, case-insensitive, with a bonus for containment);
//! callers say what the known names are.

/// Up to `n` of `known` closest to `name`, closest first (ties keep `known`'s order).
/// Exact duplicates are listed once.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>, n: usize) -> Vec<&'a str> {
    let want = name.to_lowercase();
    let mut scored: Vec<(usize, usize, &str)> = known
        .into_iter()
        .enumerate()
        .map(|(i, k)| (score(&want, &k.to_lowercase()), i, k))
        .collect();
    scored.sort();
    let mut out: Vec<&str> = Vec::new();
    for (_, _, k) in scored {
        if out.len() == n {
            break;
        }
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// Edit distance per mille of the longer name (so a short name is not "close" to everything),
/// halved when one name contains the other (`gpt-4o` in `openai/gpt-4o`).
fn score(a: &str, b: &str) -> usize {
    let longer = a.chars().count().max(b.chars().count()).max(1);
    let d = distance(a, b) * 1000 / longer;
    if !a.is_empty() && !b.is_empty() && (a.contains(b) || b.contains(a)) {
        d / 2
    } else {
        d
    }
}

/// Levenshtein distance over chars, one row at a time.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (up + 1).min(row[j] + 1).min(diag + usize::from(ca != *cb));
            diag = up;
        }
    }
    row[b.len()]
}

/// `"a", "b" or "c"` for messages; `"(none)"` when there is nothing to suggest.
pub fn listed(names: &[&str]) -> String {
    match names {
        [] => "(none)".to_string(),
        [one] => format!("{one:?}"),
        [init @ .., last] => format!(
            "{} or {last:?}",
            init.iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_name_suggests_the_nearest_known_ones_first() {
        let known = ["openai", "anthropic", "mistral", "gemini"];
        assert_eq!(closest("opnai", known, 2), ["openai", "gemini"]);
        assert_eq!(closest("MISTRAL", known, 1), ["mistral"]);
        assert_eq!(closest("x", [], 3), Vec::<&str>::new());
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(listed(&["a", "b", "c"]), "\"a\", \"b\" or \"c\"");
    }
}
