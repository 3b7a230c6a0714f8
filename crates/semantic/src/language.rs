//! Telling a text's language: its script, or for Latin script the language whose stopwords
//! and accented letters it uses most. Part of the facts signature; knows no other fact.

use crate::lexicon;
use crate::tokens::Token;

/// The script of `text`, or for Latin script the language whose stopwords (and accented
/// letters) it uses most, when one leads.
pub(crate) fn of(text: &str, toks: &[Token]) -> Option<&'static str> {
    for (name, range) in SCRIPTS {
        let n = text.chars().filter(|c| range.contains(c)).count();
        if n * 3 >= text.chars().filter(|c| c.is_alphabetic()).count().max(1) {
            return Some(name);
        }
    }
    let mut scores: Vec<(usize, &'static str)> = lexicon::LANGUAGE_STOPWORDS
        .iter()
        .map(|(lang, words)| {
            let hits = toks
                .iter()
                .filter(|t| words.contains(&t.raw.to_lowercase().as_str()))
                .count();
            (hits * 2 + accent_hints(text, lang), *lang)
        })
        .collect();
    scores.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
    match scores.as_slice() {
        [(best, lang), (second, _), ..] if *best > 0 && best > second => Some(lang),
        _ => None,
    }
}

fn accent_hints(text: &str, lang: &str) -> usize {
    let marks: &str = match lang {
        "es" => "ñ¿¡áó",
        "de" => "ßäöü",
        "fr" => "çèêëàâîïôûù",
        "pt" => "ãõç",
        "it" => "ìòù",
        _ => "",
    };
    let elisions = match lang {
        "fr" => ["qu'", "j'", "d'", "c'"]
            .iter()
            .map(|e| text.to_lowercase().matches(e).count())
            .sum(),
        _ => 0,
    };
    (text.chars().filter(|c| marks.contains(*c)).count() + elisions) * 2
}

const SCRIPTS: &[(&str, std::ops::RangeInclusive<char>)] = &[
    ("kana", '\u{3040}'..='\u{30ff}'),
    ("hangul", '\u{ac00}'..='\u{d7af}'),
    ("han", '\u{4e00}'..='\u{9fff}'),
    ("cyrillic", '\u{0400}'..='\u{04ff}'),
    ("greek", '\u{0370}'..='\u{03ff}'),
    ("arabic", '\u{0600}'..='\u{06ff}'),
    ("hebrew", '\u{0590}'..='\u{05ff}'),
    ("devanagari", '\u{0900}'..='\u{097f}'),
    ("thai", '\u{0e00}'..='\u{0e7f}'),
];
