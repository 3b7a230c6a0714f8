//! Tabular input: CSV (RFC 4180) and JSON Lines, read into [`Row`]s that know where they came
//! from, so every error can name its line.

use super::Location;
use serde_json::{Map, Value};

/// One input row: named fields, and where it started.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub at: Location,
    pub fields: Map<String, Value>,
}

impl Row {
    /// A scalar field as text; `None` when absent, null or empty.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.fields.get(name)? {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => Some(other.to_string()),
        }
    }

    /// The first of `names` that is present (aliases of one column).
    pub fn text_any(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| self.text(n))
    }

    /// A structured field: JSON values as they are, JSON text (CSV cells) parsed.
    /// `Err` carries the parse failure of a non-empty cell that is not JSON.
    pub fn json(&self, name: &str) -> Result<Option<Value>, String> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map(Some)
                .map_err(|e| format!("{name} is not valid JSON ({e})")),
            Some(v) => Ok(Some(v.clone())),
        }
    }
}

/// A parsed CSV: its header, its rows, and the rows that could not be split.
pub(crate) struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
    pub errors: Vec<(Location, String)>,
}

/// Reads CSV with a header line. Quoted fields may hold commas, doubled quotes and line
/// breaks; each row remembers the line it starts on. Blank lines are skipped. Only an
/// unclosed quote is fatal (nothing after it can be located).
pub(crate) fn read_csv(text: &str) -> Result<Csv, (Location, String)> {
    let records = split_csv(text)?;
    let mut iter = records.into_iter();
    let Some((_, header)) = iter.next() else {
        return Ok(Csv {
            header: Vec::new(),
            rows: Vec::new(),
            errors: Vec::new(),
        });
    };
    let header: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (line, cells) in iter {
        if cells.len() == 1 && cells[0].is_empty() {
            continue;
        }
        if cells.len() != header.len() {
            errors.push((
                Location::Line(line),
                format!(
                    "has {} fields but the header has {}; quote fields that contain commas",
                    cells.len(),
                    header.len()
                ),
            ));
            continue;
        }
        let fields = header
            .iter()
            .cloned()
            .zip(cells.into_iter().map(Value::String))
            .collect();
        rows.push(Row {
            at: Location::Line(line),
            fields,
        });
    }
    Ok(Csv {
        header,
        rows,
        errors,
    })
}

type CsvRecord = (usize, Vec<String>);

fn split_csv(text: &str) -> Result<Vec<CsvRecord>, (Location, String)> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut start_line = 1;
    let mut field = String::new();
    let mut cells = Vec::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => cells.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                cells.push(std::mem::take(&mut field));
                out.push((start_line, std::mem::take(&mut cells)));
                line += 1;
                start_line = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err((
            Location::Line(start_line),
            "a quoted field is never closed; check for a stray `\"`".into(),
        ));
    }
    if !field.is_empty() || !cells.is_empty() {
        cells.push(field);
        out.push((start_line, cells));
    }
    Ok(out)
}

/// Reads JSON Lines: one object per non-blank line. A line that is not an object is reported
/// (all of them), not skipped.
pub(crate) fn read_jsonl(text: &str) -> (Vec<Row>, Vec<(Location, String)>) {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let at = Location::Line(i + 1);
        if l.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(l) {
            Ok(Value::Object(fields)) => rows.push(Row { at, fields }),
            Ok(_) => errors.push((at, "is not a JSON object".to_string())),
            Err(e) => errors.push((at, format!("is not valid JSON ({e})"))),
        }
    }
    (rows, errors)
}

/// Rows from a JSON array of objects (an API's list response), located by index.
pub(crate) fn rows_from_array(items: &[Value]) -> (Vec<Row>, Vec<(Location, String)>) {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, v) in items.iter().enumerate() {
        let at = Location::Path(format!("[{i}]"));
        match v {
            Value::Object(fields) => rows.push(Row {
                at,
                fields: fields.clone(),
            }),
            _ => errors.push((at, "is not a JSON object".to_string())),
        }
    }
    (rows, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_commas_and_line_breaks_and_keeps_start_lines() {
        let csv = read_csv("a,b\n1,\"x,\"\"y\"\"\nz\"\n\n2,3\r\n").unwrap();
        assert_eq!(csv.header, vec!["a", "b"]);
        let rows = csv.rows;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text("b").unwrap(), "x,\"y\"\nz");
        assert_eq!(rows[0].at, Location::Line(2));
        assert_eq!(rows[1].at, Location::Line(5));
        assert_eq!(rows[1].text("b").unwrap(), "3");
    }

    #[test]
    fn csv_rows_with_the_wrong_field_count_name_their_line() {
        let csv = read_csv("a,b\n1,2\n1,2,3\n1\n").unwrap();
        assert_eq!(csv.rows.len(), 1);
        let lines: Vec<_> = csv.errors.iter().map(|e| e.0.clone()).collect();
        assert_eq!(lines, vec![Location::Line(3), Location::Line(4)]);
    }
}
