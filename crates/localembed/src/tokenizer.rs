//! BERT uncased WordPiece tokenizer (the one all-MiniLM-L6-v2 uses).
//!
//! Mirrors the Hugging Face `tokenizers` pipeline declared in the model's
//! `tokenizer.json`:
//!
//! 1. `BertNormalizer`: clean text (drop NUL / U+FFFD / category C* chars,
//!    map whitespace to a space), put spaces around CJK ideographs, strip
//!    accents (NFD, then drop Mn marks), lowercase.
//! 2. `BertPreTokenizer`: split on whitespace, and make every punctuation
//!    char (ASCII punctuation or category P*) its own word.
//! 3. `WordPiece`: greedy longest-match-first with `##` continuation; a word
//!    that cannot be fully covered, or is longer than
//!    `max_input_chars_per_word` chars, becomes `[UNK]`.
//! 4. Template: `[CLS] ... [SEP]`, truncated so the whole sequence fits.
//!
//! NFD is implemented with a generated table (`unicode_tables.rs`, every code
//! point whose canonical decomposition minus Mn marks differs from itself,
//! Unicode 14) plus algorithmic Hangul decomposition, so no unicode crate is
//! needed. Known gap: canonical reordering of the rare spacing marks (Mc)
//! with a non-zero combining class is not performed.

use std::collections::HashMap;

use crate::unicode_tables::{NONSPACING_MARK, OTHER, PUNCT, STRIP_MULTI, STRIP_SINGLE};

/// Errors while reading a tokenizer definition.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("tokenizer.json is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("tokenizer.json: unsupported model type {0:?} (only WordPiece is supported)")]
    UnsupportedModel(String),
    #[error("tokenizer vocabulary is missing the special token {0}")]
    MissingSpecialToken(String),
    #[error("tokenizer vocabulary is empty")]
    EmptyVocab,
}

/// A tokenised sequence, special tokens included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    pub ids: Vec<u32>,
    pub tokens: Vec<String>,
}

/// BERT WordPiece tokenizer.
#[derive(Debug, Clone)]
pub struct WordPieceTokenizer {
    vocab: HashMap<String, u32>,
    id_to_token: Vec<String>,
    unk: String,
    cls: String,
    sep: String,
    continuing_prefix: String,
    max_input_chars_per_word: usize,
    lowercase: bool,
    strip_accents: bool,
    handle_chinese_chars: bool,
    clean_text: bool,
}

#[derive(serde::Deserialize)]
struct TokenizerJson {
    normalizer: Option<NormalizerJson>,
    model: ModelJson,
}

#[derive(serde::Deserialize)]
struct NormalizerJson {
    #[serde(default = "yes")]
    clean_text: bool,
    #[serde(default = "yes")]
    handle_chinese_chars: bool,
    strip_accents: Option<bool>,
    #[serde(default = "yes")]
    lowercase: bool,
}

#[derive(serde::Deserialize)]
struct ModelJson {
    #[serde(rename = "type")]
    kind: Option<String>,
    vocab: HashMap<String, u32>,
    unk_token: Option<String>,
    continuing_subword_prefix: Option<String>,
    max_input_chars_per_word: Option<usize>,
}

fn yes() -> bool {
    true
}

impl WordPieceTokenizer {
    /// Build from a vocabulary (token -> id) with BERT-uncased defaults.
    pub fn from_vocab(vocab: HashMap<String, u32>) -> Result<Self, TokenizerError> {
        Self::build(
            vocab,
            "[UNK]".into(),
            "##".into(),
            100,
            true,
            true,
            true,
            true,
        )
    }

    /// Build from a `vocab.txt` (one token per line, id = line number).
    pub fn from_vocab_txt(text: &str) -> Result<Self, TokenizerError> {
        let vocab = text
            .lines()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32))
            .collect();
        Self::from_vocab(vocab)
    }

    /// Build from the contents of a Hugging Face `tokenizer.json`.
    pub fn from_tokenizer_json(json: &str) -> Result<Self, TokenizerError> {
        let parsed: TokenizerJson = serde_json::from_str(json)?;
        match &parsed.model.kind {
            Some(kind) if kind != "WordPiece" => {
                return Err(TokenizerError::UnsupportedModel(kind.clone()));
            }
            _ => {}
        }
        let (clean, chinese, lower, strip) = match &parsed.normalizer {
            // `strip_accents: null` means "follow lowercase", as in the HF BertNormalizer.
            Some(n) => (
                n.clean_text,
                n.handle_chinese_chars,
                n.lowercase,
                n.strip_accents.unwrap_or(n.lowercase),
            ),
            None => (true, true, true, true),
        };
        Self::build(
            parsed.model.vocab,
            parsed.model.unk_token.unwrap_or_else(|| "[UNK]".into()),
            parsed
                .model
                .continuing_subword_prefix
                .unwrap_or_else(|| "##".into()),
            parsed.model.max_input_chars_per_word.unwrap_or(100),
            clean,
            chinese,
            lower,
            strip,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        vocab: HashMap<String, u32>,
        unk: String,
        continuing_prefix: String,
        max_input_chars_per_word: usize,
        clean_text: bool,
        handle_chinese_chars: bool,
        lowercase: bool,
        strip_accents: bool,
    ) -> Result<Self, TokenizerError> {
        if vocab.is_empty() {
            return Err(TokenizerError::EmptyVocab);
        }
        for special in [unk.as_str(), "[CLS]", "[SEP]"] {
            if !vocab.contains_key(special) {
                return Err(TokenizerError::MissingSpecialToken(special.to_string()));
            }
        }
        let max_id = vocab.values().copied().max().unwrap_or(0) as usize;
        let mut id_to_token = vec![String::new(); max_id + 1];
        for (tok, &id) in &vocab {
            id_to_token[id as usize] = tok.clone();
        }
        Ok(Self {
            vocab,
            id_to_token,
            unk,
            cls: "[CLS]".into(),
            sep: "[SEP]".into(),
            continuing_prefix,
            max_input_chars_per_word,
            lowercase,
            strip_accents,
            handle_chinese_chars,
            clean_text,
        })
    }

    /// Number of entries in the vocabulary (largest id + 1).
    pub fn vocab_size(&self) -> usize {
        self.id_to_token.len()
    }

    /// Id of a token, if it is in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.vocab.get(token).copied()
    }

    /// Token for an id, if in range.
    pub fn id_to_token(&self, id: u32) -> Option<&str> {
        self.id_to_token.get(id as usize).map(String::as_str)
    }

    /// Apply the BERT normaliser.
    pub fn normalize(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if self.clean_text {
                if c == '\0' || c == '\u{FFFD}' || is_control(c) {
                    continue;
                }
                if is_whitespace(c) {
                    out.push(' ');
                    continue;
                }
            }
            if self.handle_chinese_chars && is_chinese_char(c) {
                out.push(' ');
                out.push(c);
                out.push(' ');
                continue;
            }
            out.push(c);
        }
        if self.strip_accents {
            out = strip_accents(&out);
        }
        if self.lowercase {
            out = out.chars().flat_map(char::to_lowercase).collect();
        }
        out
    }

    /// Split normalised text into words (whitespace and punctuation).
    pub fn pre_tokenize(text: &str) -> Vec<&str> {
        let mut words = Vec::new();
        let mut start: Option<usize> = None;
        for (i, c) in text.char_indices() {
            if is_whitespace(c) {
                if let Some(s) = start.take() {
                    words.push(&text[s..i]);
                }
            } else if is_punctuation(c) {
                if let Some(s) = start.take() {
                    words.push(&text[s..i]);
                }
                words.push(&text[i..i + c.len_utf8()]);
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(s) = start {
            words.push(&text[s..]);
        }
        words
    }

    /// WordPiece-split one word, appending tokens to `out`.
    fn wordpiece<'a>(&'a self, word: &str, out: &mut Vec<&'a str>) {
        if word.chars().count() > self.max_input_chars_per_word {
            out.push(&self.unk);
            return;
        }
        let mark = out.len();
        let mut start = 0;
        let mut candidate = String::with_capacity(word.len() + self.continuing_prefix.len());
        while start < word.len() {
            let mut end = word.len();
            let mut found: Option<&'a str> = None;
            while start < end {
                candidate.clear();
                if start > 0 {
                    candidate.push_str(&self.continuing_prefix);
                }
                candidate.push_str(&word[start..end]);
                if let Some((tok, _)) = self.vocab.get_key_value(candidate.as_str()) {
                    found = Some(tok.as_str());
                    break;
                }
                // Step back one char.
                end = word[..end]
                    .char_indices()
                    .next_back()
                    .map_or(start, |(i, _)| i);
            }
            match found {
                Some(tok) => {
                    out.push(tok);
                    start = end;
                }
                None => {
                    out.truncate(mark);
                    out.push(&self.unk);
                    return;
                }
            }
        }
    }

    /// Word pieces for `text`, without special tokens.
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        let normalized = self.normalize(text);
        let mut out = Vec::new();
        for word in Self::pre_tokenize(&normalized) {
            self.wordpiece(word, &mut out);
        }
        out.into_iter().map(str::to_string).collect()
    }

    /// `[CLS] pieces [SEP]`, keeping at most `max_len` tokens in total
    /// (word pieces are truncated; the special tokens are always kept).
    pub fn encode(&self, text: &str, max_len: usize) -> Encoding {
        let normalized = self.normalize(text);
        let mut pieces: Vec<&str> = Vec::new();
        for word in Self::pre_tokenize(&normalized) {
            self.wordpiece(word, &mut pieces);
        }
        pieces.truncate(max_len.saturating_sub(2));
        let mut tokens = Vec::with_capacity(pieces.len() + 2);
        tokens.push(self.cls.as_str());
        tokens.extend(pieces);
        tokens.push(self.sep.as_str());
        let ids = tokens
            .iter()
            .map(|t| self.vocab.get(*t).copied().unwrap_or(0))
            .collect();
        Encoding {
            ids,
            tokens: tokens.into_iter().map(str::to_string).collect(),
        }
    }
}

fn in_ranges(table: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Whitespace as BERT sees it: tab, newline, CR and Unicode White_Space.
fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// Category C* except tab / newline / CR.
fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && in_ranges(OTHER, c)
}

/// ASCII punctuation (includes symbols such as `$`, `+`, `^`) or category P*.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || in_ranges(PUNCT, c)
}

/// CJK Unified Ideographs blocks, as in the original BERT code.
fn is_chinese_char(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B820..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}

/// NFD followed by removal of non-spacing marks.
fn strip_accents(text: &str) -> String {
    const S_BASE: u32 = 0xAC00;
    const L_BASE: u32 = 0x1100;
    const V_BASE: u32 = 0x1161;
    const T_BASE: u32 = 0x11A7;
    const V_COUNT: u32 = 21;
    const T_COUNT: u32 = 28;
    const N_COUNT: u32 = V_COUNT * T_COUNT;
    const S_COUNT: u32 = 19 * N_COUNT;

    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let cp = c as u32;
        if in_ranges(NONSPACING_MARK, c) {
            continue;
        }
        if (S_BASE..S_BASE + S_COUNT).contains(&cp) {
            let s = cp - S_BASE;
            let jamo = [
                Some(L_BASE + s / N_COUNT),
                Some(V_BASE + (s % N_COUNT) / T_COUNT),
                (s % T_COUNT != 0).then_some(T_BASE + s % T_COUNT),
            ];
            out.extend(jamo.into_iter().flatten().filter_map(char::from_u32));
            continue;
        }
        if let Ok(i) = STRIP_SINGLE.binary_search_by_key(&cp, |&(k, _)| k) {
            out.extend(char::from_u32(STRIP_SINGLE[i].1));
            continue;
        }
        if let Ok(i) = STRIP_MULTI.binary_search_by_key(&cp, |&(k, _)| k) {
            out.extend(STRIP_MULTI[i].1.iter().copied().filter_map(char::from_u32));
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> WordPieceTokenizer {
        let words = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "want", "##ed", "runn",
            "##ing", ",", ".", "!", "a", "cafe", "hello", "world", "中", "国", "$", "i",
        ];
        let vocab = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.to_string(), i as u32))
            .collect();
        WordPieceTokenizer::from_vocab(vocab).unwrap()
    }

    #[test]
    fn greedy_longest_match_first() {
        let t = toy();
        assert_eq!(t.tokenize("unaffable"), ["un", "##aff", "##able"]);
        assert_eq!(t.tokenize("unwanted running"), ["[UNK]", "runn", "##ing"]);
        assert_eq!(
            t.tokenize("wanted,running!"),
            ["want", "##ed", ",", "runn", "##ing", "!"]
        );
    }

    #[test]
    fn normalizer_lowercases_strips_accents_and_cleans() {
        let t = toy();
        assert_eq!(t.normalize("HeLLo\tWorld\u{0}\u{200B}"), "hello world");
        assert_eq!(t.normalize("Café Ångström Łódź"), "cafe angstrom łodz");
        assert_eq!(t.normalize("cafe\u{301}"), "cafe");
        assert_eq!(t.normalize("İ"), "i");
        assert_eq!(t.normalize("Ελληνικά"), "ελληνικα");
        assert_eq!(t.normalize("йё"), "ие");
        // Hangul syllable -> conjoining jamo, as NFD does.
        assert_eq!(t.normalize("한"), "\u{1112}\u{1161}\u{11AB}");
        assert_eq!(t.normalize("中国"), " 中  国 ");
    }

    #[test]
    fn pre_tokenizer_splits_punctuation_and_cjk() {
        let t = toy();
        assert_eq!(t.tokenize("Hello, world!"), ["hello", ",", "world", "!"]);
        assert_eq!(t.tokenize("中国"), ["中", "国"]);
        assert_eq!(t.tokenize("$a"), ["$", "a"]);
        assert_eq!(
            WordPieceTokenizer::pre_tokenize("a«b»c—d"),
            ["a", "«", "b", "»", "c", "—", "d"]
        );
        assert_eq!(t.tokenize("Café"), ["cafe"]);
    }

    #[test]
    fn long_words_become_unk() {
        let t = toy();
        let long = "a".repeat(101);
        assert_eq!(t.tokenize(&long), ["[UNK]"]);
    }

    #[test]
    fn encode_adds_specials_and_truncates() {
        let t = toy();
        let e = t.encode("hello world", 512);
        assert_eq!(e.tokens, ["[CLS]", "hello", "world", "[SEP]"]);
        assert_eq!(e.ids, [2, 16, 17, 3]);
        let e = t.encode("hello world hello world", 4);
        assert_eq!(e.tokens, ["[CLS]", "hello", "world", "[SEP]"]);
        let e = t.encode("", 8);
        assert_eq!(e.tokens, ["[CLS]", "[SEP]"]);
    }

    #[test]
    fn tokenizer_json_is_parsed() {
        let json = r###"{"normalizer":{"type":"BertNormalizer","clean_text":true,
            "handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
            "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",
            "max_input_chars_per_word":100,"vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2,"e":3}}}"###;
        let t = WordPieceTokenizer::from_tokenizer_json(json).unwrap();
        assert_eq!(t.encode("É", 16).ids, [1, 3, 2]);
        assert_eq!(t.vocab_size(), 4);
        let bad = json.replace("\"[SEP]\":2,", "");
        assert!(matches!(
            WordPieceTokenizer::from_tokenizer_json(&bad),
            Err(TokenizerError::MissingSpecialToken(_))
        ));
    }
}
