//! The small tokenizer the facts extractor runs on: quoted strings are cut out first, the rest
//! is split into words and numbers with their position and capitalisation. Knows no word lists.

/// One word or number of a text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    /// As written.
    pub raw: String,
    /// Lower case, apostrophes (’ and ') removed.
    pub lower: String,
    /// First token of a sentence (capitalised for that reason alone, maybe).
    pub sentence_start: bool,
    /// The character just before the token, if not a space (a currency symbol, say).
    pub before: Option<char>,
    /// The character just after the token, if not a space (`%`, `°`).
    pub after: Option<char>,
}

impl Token {
    pub(crate) fn starts_with_digit(&self) -> bool {
        self.raw.starts_with(|c: char| c.is_ascii_digit())
    }

    pub(crate) fn is_capitalised(&self) -> bool {
        self.raw.starts_with(char::is_uppercase)
    }

    pub(crate) fn is_all_caps(&self) -> bool {
        self.raw.chars().filter(|c| c.is_alphabetic()).count() >= 2
            && !self.raw.chars().any(char::is_lowercase)
    }
}

const QUOTES: &[(char, char)] = &[('"', '"'), ('“', '”'), ('«', '»'), ('`', '`'), ('„', '“')];

/// Cuts quoted spans out of `text`: returns their trimmed contents (in order) and the text with
/// each span replaced by a space. A `'` opens a quote only after a space or an opening bracket
/// and closes before a space or punctuation, so apostrophes in words are not quotes.
pub(crate) fn split_quotes(text: &str) -> (Vec<String>, String) {
    let chars: Vec<char> = text.chars().collect();
    let mut quoted = Vec::new();
    let mut rest = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if let Some(close) = closing_quote(&chars, i) {
            if let Some(end) = find_close(&chars, i + 1, close) {
                let inner: String = chars[i + 1..end].iter().collect();
                let inner = inner.trim();
                if !inner.is_empty() {
                    quoted.push(inner.to_owned());
                }
                rest.push(' ');
                i = end + 1;
                continue;
            }
        }
        rest.push(chars[i]);
        i += 1;
    }
    (quoted, rest)
}

fn closing_quote(chars: &[char], i: usize) -> Option<char> {
    let c = chars[i];
    if let Some((_, close)) = QUOTES.iter().find(|(open, _)| *open == c) {
        return Some(*close);
    }
    let opens_single = matches!(c, '\'' | '‘')
        && (i == 0 || chars[i - 1].is_whitespace() || matches!(chars[i - 1], '(' | '[' | ':'));
    opens_single.then_some(if c == '‘' { '’' } else { '\'' })
}

fn find_close(chars: &[char], from: usize, close: char) -> Option<usize> {
    (from..chars.len()).find(|&j| {
        chars[j] == close
            && (close != '\'' && close != '’'
                || chars
                    .get(j + 1)
                    .is_none_or(|n| n.is_whitespace() || n.is_ascii_punctuation()))
    })
}

/// Splits `text` (quotes already cut) into tokens. A token is a run of letters and digits that
/// may hold an apostrophe or hyphen between letters, and `.` `,` `:` `/` `-` between digits;
/// `c++` and `c#` stay whole.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut sentence_start = true;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_alphanumeric() {
            if matches!(c, '.' | '?' | '!' | '\n' | ':' | ';') {
                sentence_start = true;
            }
            i += 1;
            continue;
        }
        let start = i;
        i = token_end(&chars, i);
        let raw: String = chars[start..i].iter().collect();
        let lower = raw.to_lowercase().replace(['\'', '’'], "");
        tokens.push(Token {
            raw,
            lower,
            sentence_start,
            before: start
                .checked_sub(1)
                .map(|p| chars[p])
                .filter(|c| !c.is_whitespace()),
            after: chars.get(i).copied().filter(|c| !c.is_whitespace()),
        });
        sentence_start = false;
    }
    tokens
}

fn token_end(chars: &[char], mut i: usize) -> usize {
    let start = i;
    while i < chars.len() {
        let c = chars[i];
        let prev = chars[i.saturating_sub(1)];
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        let joins = c.is_alphanumeric()
            || (matches!(c, '\'' | '’' | '-')
                && i > start
                && prev.is_alphabetic()
                && next.is_alphabetic())
            || (matches!(c, '.' | ',' | ':' | '/' | '-')
                && i > start
                && prev.is_ascii_digit()
                && next.is_ascii_digit());
        if !joins {
            break;
        }
        i += 1;
    }
    let word: String = chars[start..i].iter().collect();
    if word.eq_ignore_ascii_case("c") {
        if chars.get(i) == Some(&'#') {
            return i + 1;
        }
        if chars.get(i) == Some(&'+') && chars.get(i + 1) == Some(&'+') {
            return i + 2;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raws(text: &str) -> Vec<String> {
        tokenize(text).into_iter().map(|t| t.raw).collect()
    }

    #[test]
    fn numbers_keep_their_separators_and_words_their_apostrophes() {
        assert_eq!(
            raws("Isn't 1,000.5 km on 2024-03-05 at 10:30 in C++ or C#?"),
            [
                "Isn't",
                "1,000.5",
                "km",
                "on",
                "2024-03-05",
                "at",
                "10:30",
                "in",
                "C++",
                "or",
                "C#"
            ]
        );
        assert_eq!(tokenize("Isn't it")[0].lower, "isnt");
    }

    #[test]
    fn sentence_starts_and_neighbouring_symbols_are_recorded() {
        let t = tokenize("Send $50. Then 20% more");
        assert!(t[0].sentence_start && !t[1].sentence_start && t[2].sentence_start);
        assert_eq!(t[1].before, Some('$'));
        assert_eq!(t[3].after, Some('%'));
    }

    #[test]
    fn quotes_are_cut_but_apostrophes_are_not() {
        let (q, rest) =
            split_quotes("What does \"connection refused\" mean in Bob's 'docker run'?");
        assert_eq!(q, ["connection refused", "docker run"]);
        assert!(rest.contains("Bob's") && !rest.contains("refused"));
    }
}
