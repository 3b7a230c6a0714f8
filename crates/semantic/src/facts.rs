//! The facts signature of a text: what must agree between a query and a cached entry for the
//! entry's answer to fit (negation, polarity, numbers with units, dates, named entities, quoted
//! strings, language). Extraction only; the agreement rules live in `guard`.
//!
//! The rules are listed in docs/caching.md ("Guards"); the word lists are in `lexicon`.

use crate::language;
use crate::lexicon::{self, CURRENCY_SYMBOLS, GAZETTEER, MONTHS, NUMBER_WORDS, UNITS, WEEKDAYS};
use crate::tokens::{self, Token};

/// A number as written (canonical decimal, or a time like `10:30`) and its unit, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    pub value: String,
    pub unit: Option<&'static str>,
    /// Spelled out, at most two and without a unit ("merge two lists", "which one"): such
    /// words are often incidental, so they need to agree only when both sides have some.
    pub weak: bool,
}

/// What a text says that its embedding may blur.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// The text holds a negation (`not`, `no`, `never`, `without`, `n't`, …).
    pub negated: bool,
    /// (polarity group, pole) pairs named, sorted and deduplicated.
    pub polarity: Vec<(u16, u8)>,
    /// Numbers in order of appearance.
    pub numbers: Vec<Number>,
    /// Dates in order: `month:3`, `weekday:friday`, `rel:tomorrow`, `rel:next week`, ISO dates.
    pub dates: Vec<String>,
    /// Named entities and standalone units, lower case, in order.
    pub terms: Vec<String>,
    /// Quoted strings as written.
    pub quoted: Vec<String>,
    /// Hashes of every word (lower case, also without a possessive or plural `s`), sorted:
    /// a term of one side must occur among the other side's words.
    pub words: Vec<u64>,
    /// The text holds a word that makes order matter (`from`, `to`, `than`, `vs`, …).
    pub directional: bool,
    /// Language or script, where it could be told (`en`, `fr`, `cyrillic`, `han`, …).
    pub language: Option<&'static str>,
}

impl Facts {
    /// Extracts the facts of `text`.
    pub fn of(text: &str) -> Facts {
        let (quoted, rest) = tokens::split_quotes(text);
        let toks = tokens::tokenize(&rest);
        let mut facts = Facts {
            quoted,
            language: language::of(text, &toks),
            ..Facts::default()
        };
        facts.negated = toks.iter().any(is_negation);
        facts.polarity = polarity(&toks);
        numbers_and_dates(&toks, &mut facts);
        facts.terms = terms(&toks);
        facts.words = word_hashes(&toks);
        facts.directional = toks
            .iter()
            .any(|t| lexicon::DIRECTIONAL.contains(&t.lower.as_str()));
        facts
    }

    /// Heap bytes this signature holds (for the index's byte bound).
    pub fn heap_bytes(&self) -> usize {
        let strings = |v: &[String]| v.iter().map(|s| s.capacity() + 24).sum::<usize>();
        self.polarity.capacity() * 4
            + self
                .numbers
                .iter()
                .map(|n| n.value.capacity() + 48)
                .sum::<usize>()
            + strings(&self.dates)
            + strings(&self.terms)
            + strings(&self.quoted)
            + self.words.capacity() * 8
    }
}

fn is_negation(t: &Token) -> bool {
    lexicon::NEGATIONS.contains(&t.lower.as_str())
        || t.raw.ends_with("n't")
        || t.raw.ends_with("n’t")
}

fn polarity(toks: &[Token]) -> Vec<(u16, u8)> {
    let mut found = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let stem = lexicon::stem(&t.lower);
        let pair = toks.get(i + 1).map(|n| format!("{stem} {}", n.lower));
        for (group, (_, words)) in (0u16..).zip(lexicon::POLARITY) {
            for (word, pole) in *words {
                let hit = if word.contains(' ') {
                    pair.as_deref() == Some(*word)
                } else {
                    stem == *word || t.lower == *word
                };
                if hit {
                    found.push((group, *pole));
                }
            }
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

fn unit_of(word: &str) -> Option<&'static str> {
    UNITS.iter().find(|(w, _)| *w == word).map(|(_, u)| *u)
}

fn number_word(t: &Token, prev: Option<&Token>) -> Option<f64> {
    let value = NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == t.lower)
        .map(|(_, v)| *v)?;
    let pronoun = t.lower == "one"
        && prev.is_some_and(|p| {
            matches!(
                p.lower.as_str(),
                "which" | "this" | "that" | "the" | "each" | "any" | "every" | "no" | "another"
            )
        });
    (!pronoun).then_some(value)
}

/// `1,000` → 1000, `3,5` → 3.5, `2.50` → 2.5; `None` for times and other forms.
fn parse_decimal(s: &str) -> Option<f64> {
    let thousands = s
        .split(',')
        .skip(1)
        .all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit()));
    let cleaned = if thousands {
        s.replace(',', "")
    } else {
        s.replace(',', ".")
    };
    cleaned.parse::<f64>().ok()
}

fn canonical(v: f64) -> String {
    let s = format!("{v}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// A run of number tokens being read ("two hundred", "5 million").
#[derive(Default)]
struct Pending {
    total: f64,
    current: f64,
    active: bool,
    spelled: bool,
    unit: Option<&'static str>,
}

impl Pending {
    fn add(&mut self, v: f64) {
        if v >= 1000.0 {
            self.total += self.current.max(1.0) * v;
            self.current = 0.0;
        } else if v == 100.0 {
            self.current = self.current.max(1.0) * v;
        } else {
            self.current += v;
        }
        self.active = true;
    }

    fn flush(&mut self, out: &mut Vec<Number>, unit: Option<&'static str>) {
        if self.active {
            let value = self.total + self.current;
            let unit = self.unit.or(unit);
            out.push(Number {
                value: canonical(value),
                unit,
                weak: self.spelled && unit.is_none() && value <= 2.0,
            });
        }
        *self = Pending::default();
    }
}

fn numbers_and_dates(toks: &[Token], facts: &mut Facts) {
    let mut pending = Pending::default();
    let mut after_number = false;
    for (i, t) in toks.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| toks.get(p));
        if let Some(date) = date_of(toks, i) {
            pending.flush(&mut facts.numbers, None);
            facts.dates.push(date);
            after_number = false;
            continue;
        }
        if t.starts_with_digit() {
            read_digits(t, &mut pending, &mut facts.numbers);
            after_number = true;
            continue;
        }
        if let Some(v) = number_word(t, prev) {
            if !(v >= 100.0 || pending.active) {
                pending.flush(&mut facts.numbers, None);
            }
            pending.add(v);
            pending.spelled = true;
            after_number = true;
            continue;
        }
        let unit = if after_number {
            unit_of(&t.lower)
        } else {
            None
        };
        pending.flush(&mut facts.numbers, unit);
        after_number = false;
    }
    pending.flush(&mut facts.numbers, None);
}

/// A token that starts with a digit: a decimal, an amount with a suffix (`5km`, `3rd`, `4k`), or
/// a time kept as written.
fn read_digits(t: &Token, pending: &mut Pending, out: &mut Vec<Number>) {
    pending.flush(out, None);
    let split = t
        .raw
        .find(|c: char| c.is_alphabetic())
        .unwrap_or(t.raw.len());
    let (digits, suffix) = t.raw.split_at(split);
    let suffix = suffix.to_lowercase();
    let currency = t.before.and_then(|b| {
        CURRENCY_SYMBOLS
            .iter()
            .find(|(c, _)| *c == b)
            .map(|(_, u)| *u)
    });
    let percent = (t.after == Some('%')).then_some("percent");
    let Some(mut value) = parse_decimal(digits) else {
        out.push(Number {
            value: t.lower.clone(),
            unit: None,
            weak: false,
        });
        return;
    };
    let mut unit = currency.or(percent);
    match suffix.as_str() {
        "" | "st" | "nd" | "rd" | "th" => {}
        "k" => value *= 1e3,
        "am" | "pm" => {
            out.push(Number {
                value: t.lower.clone(),
                unit: None,
                weak: false,
            });
            return;
        }
        other => match unit_of(other) {
            Some(u) => unit = unit.or(Some(u)),
            // An identifier such as `2fa` or `3d`: the terms carry it.
            None => return,
        },
    }
    *pending = Pending {
        total: 0.0,
        current: value,
        active: true,
        spelled: false,
        unit,
    };
    if unit.is_some() && !suffix.is_empty() {
        pending.flush(out, None);
    }
}

fn month_of(word: &str) -> Option<u8> {
    MONTHS.iter().find(|(m, _)| *m == word).map(|(_, n)| *n)
}

/// The date token `toks[i]` starts, if any. Abbreviated months and `may` count only next to a
/// number or when capitalised mid-sentence ("May I" opens a sentence; "in May" does not).
fn date_of(toks: &[Token], i: usize) -> Option<String> {
    let t = &toks[i];
    let near_number = |j: Option<usize>| {
        j.and_then(|j| toks.get(j))
            .is_some_and(Token::starts_with_digit)
    };
    if let Some(m) = month_of(&t.lower) {
        let full = t.lower.len() > 3 && t.lower != "may";
        let capital_mid = t.is_capitalised() && !t.sentence_start;
        let dated =
            full || capital_mid || near_number(i.checked_sub(1)) || near_number(Some(i + 1));
        return dated.then(|| format!("month:{m}"));
    }
    if WEEKDAYS.contains(&t.lower.as_str()) {
        return Some(format!("weekday:{}", t.lower));
    }
    if lexicon::RELATIVE_DATES.contains(&t.lower.as_str()) {
        return Some(format!("rel:{}", t.lower));
    }
    let next = toks.get(i + 1).map(|n| n.lower.as_str());
    if matches!(
        t.lower.as_str(),
        "this" | "next" | "last" | "past" | "coming"
    ) && next.is_some_and(|n| lexicon::PERIOD_WORDS.contains(&n))
    {
        return Some(format!("rel:{} {}", t.lower, next.unwrap_or_default()));
    }
    if t.starts_with_digit() && t.raw.len() == 10 && t.raw.matches('-').count() == 2 {
        return Some(format!("iso:{}", t.raw));
    }
    if t.starts_with_digit() && t.raw.contains('/') {
        return Some(format!("date:{}", t.raw));
    }
    None
}

/// `5km`, `3rd`, `4k`, `10pm`: a number with a suffix rather than a name like `2fa`.
fn is_amount(t: &Token) -> bool {
    if !t.starts_with_digit() {
        return false;
    }
    let suffix = t
        .lower
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ',');
    matches!(suffix, "st" | "nd" | "rd" | "th" | "k" | "am" | "pm") || unit_of(suffix).is_some()
}

/// The word forms a term may be found under: as written, without a possessive, without a
/// plural `s`.
fn word_hashes(toks: &[Token]) -> Vec<u64> {
    let mut out: Vec<u64> = toks
        .iter()
        .flat_map(|t| {
            let word = t.raw.to_lowercase();
            let bare = strip_possessive(&word).to_owned();
            let singular = bare
                .strip_suffix('s')
                .filter(|s| s.len() >= 2)
                .map(str::to_owned);
            [Some(word), Some(bare), singular]
                .into_iter()
                .flatten()
                .map(|w| hash_word(&w))
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// FNV-1a of a word (stable across runs, so facts could be persisted).
pub(crate) fn hash_word(word: &str) -> u64 {
    word.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn is_number_token(t: &Token) -> bool {
    t.starts_with_digit() || NUMBER_WORDS.iter().any(|(w, _)| *w == t.lower)
}

fn strip_possessive(word: &str) -> &str {
    word.strip_suffix("'s")
        .or_else(|| word.strip_suffix("’s"))
        .or_else(|| word.strip_suffix('\''))
        .unwrap_or(word)
}

/// An entity as compared: lower case, no possessive, `APIs` → `api`.
fn entity_form(raw: &str) -> String {
    let bare = strip_possessive(raw);
    let caps_plural = bare.len() > 2
        && bare.ends_with('s')
        && bare[..bare.len() - 1]
            .chars()
            .all(|c| c.is_uppercase() || c.is_ascii_digit());
    let bare = if caps_plural {
        &bare[..bare.len() - 1]
    } else {
        bare
    };
    bare.to_lowercase()
}

fn is_date_word(t: &Token) -> bool {
    month_of(&t.lower).is_some() || WEEKDAYS.contains(&t.lower.as_str())
}

/// Named entities (gazetteer names, capitalised words mid-sentence, all-caps words, names with
/// digits such as `gpt4`) and unit names standing alone, in order. Adjacent capitalised words
/// form one entity.
fn terms(toks: &[Token]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    let mut joined_prev = false;
    while i < toks.len() {
        let t = &toks[i];
        let word = entity_form(&t.raw);
        if let Some(pair) = toks
            .get(i + 1)
            .map(|n| format!("{word} {}", strip_possessive(&n.raw).to_lowercase()))
        {
            if GAZETTEER.contains(&pair.as_str()) {
                out.push(pair);
                i += 2;
                joined_prev = false;
                continue;
            }
        }
        let after_number = i > 0 && is_number_token(&toks[i - 1]);
        let entity = GAZETTEER.contains(&word.as_str())
            || (t.is_all_caps() && unit_of(&word).is_none() && !lexicon::is_function_word(&word))
            || (t.is_capitalised()
                && !t.sentence_start
                && word.chars().count() > 1
                && !lexicon::is_function_word(&word)
                && !is_date_word(t))
            || (t.raw.chars().any(char::is_alphabetic)
                && t.raw.chars().any(|c| c.is_ascii_digit())
                && !is_amount(t));
        let standalone_unit =
            !after_number && lexicon::is_standalone_unit(&word) && unit_of(&word).is_some();
        if entity && t.is_capitalised() && joined_prev && !GAZETTEER.contains(&word.as_str()) {
            if let Some(last) = out.last_mut() {
                last.push(' ');
                last.push_str(&word);
                i += 1;
                continue;
            }
        }
        joined_prev = entity && t.is_capitalised();
        if entity {
            out.push(word);
        } else if standalone_unit {
            out.push(format!("unit:{}", unit_of(&word).unwrap_or_default()));
        }
        i += 1;
    }
    out
}
