//! A strict reader of the OpenMetrics text this crate writes, for tests and tools that check
//! a scrape (`switchyard` itself never parses metrics). Every line must be a `# HELP`,
//! `# TYPE`, `# UNIT` or `# EOF` comment or a sample `name{label="value",...} number`;
//! anything else is an error naming the line.

use std::collections::BTreeMap;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// The samples of a scrape, in order.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    pub samples: Vec<Sample>,
    /// `# TYPE` per metric family name.
    pub types: BTreeMap<String, String>,
}

impl Scrape {
    /// Samples named `name` whose labels include every pair in `with`.
    pub fn find<'a>(
        &'a self,
        name: &'a str,
        with: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            s.name == name
                && with
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v))
        })
    }

    /// The sum of the matching samples' values (0 when none match).
    pub fn sum(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        self.find(name, with).fold(0.0, |acc, s| acc + s.value)
    }

    /// How many series a family has (its samples named exactly `name`).
    pub fn series(&self, name: &str) -> usize {
        self.find(name, &[]).count()
    }
}

/// Parses an exposition; the error names the first bad line.
pub fn parse(text: &str) -> Result<Scrape, String> {
    let mut scrape = Scrape::default();
    let mut eof = false;
    for (n, line) in text.lines().enumerate() {
        let bad = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
        if eof {
            return Err(bad("text after # EOF"));
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("EOF"), None, None) => eof = true,
                (Some("TYPE"), Some(name), Some(kind)) => {
                    scrape.types.insert(name.to_string(), kind.to_string());
                }
                (Some("HELP" | "UNIT"), Some(_), _) => {}
                _ => return Err(bad("unknown comment")),
            }
            continue;
        }
        scrape.samples.push(sample(line).map_err(|e| bad(&e))?);
    }
    if !eof {
        return Err("no # EOF at the end".into());
    }
    Ok(scrape)
}

fn sample(line: &str) -> Result<Sample, String> {
    let (head, value) = line.rsplit_once(' ').ok_or("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        v => v.parse().map_err(|_| "the value is not a number")?,
    };
    let (name, labels) = match head.split_once('{') {
        None => (head, BTreeMap::new()),
        Some((name, rest)) => (name, labels(rest.strip_suffix('}').ok_or("unclosed {")?)?),
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    {
        return Err("bad metric name".into());
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

fn labels(mut s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    while !s.is_empty() {
        let (key, rest) = s.split_once("=\"").ok_or("a label without =\"")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("an unterminated label value".into()),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    _ => return Err("a bad escape".into()),
                },
                Some((_, c)) => value.push(c),
            }
        };
        if out.insert(key.to_string(), value).is_some() {
            return Err(format!("label {key} twice"));
        }
        s = &rest[end + 1..];
        s = s.strip_prefix(',').unwrap_or(s);
    }
    Ok(out)
}
