//! `multipart/form-data` (RFC 7578), as the OpenAI SDKs send `POST /v1/files`: the boundary
//! from the `Content-Type`, then each part's `Content-Disposition` name (and filename) and its
//! bytes, borrowed from the body. Only what an upload needs; no nested multipart.

/// One form field.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    pub name: String,
    pub filename: Option<String>,
    pub data: &'a [u8],
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

/// Every part of `body`, or what is wrong with it.
pub(crate) fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, String> {
    let delim = format!("--{boundary}");
    let next = format!("\r\n--{boundary}");
    let mut at = find(body, delim.as_bytes(), 0).ok_or("the body holds no multipart boundary")?;
    at += delim.len();
    let mut parts = Vec::new();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err("a multipart boundary is not followed by CRLF".into());
        }
        at += 2;
        let head_end = find(body, b"\r\n\r\n", at).ok_or("a part's headers do not end")?;
        let head = std::str::from_utf8(&body[at..head_end])
            .map_err(|_| "a part's headers are not UTF-8")?;
        let data_start = head_end + 4;
        let data_end = find(body, next.as_bytes(), data_start)
            .ok_or("the multipart body ends without its closing boundary")?;
        let (name, filename) = disposition(head)?;
        parts.push(Part {
            name,
            filename,
            data: &body[data_start..data_end],
        });
        at = data_end + next.len();
    }
}

/// The `name` and `filename` of a part's `Content-Disposition: form-data` header.
fn disposition(head: &str) -> Result<(String, Option<String>), String> {
    let value = head
        .split("\r\n")
        .find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-disposition")
                .then_some(v)
        })
        .ok_or("a part has no Content-Disposition header")?;
    let (mut name, mut filename) = (None, None);
    for p in value.split(';').skip(1) {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_string();
        match k.trim() {
            "name" => name = Some(v),
            "filename" => filename = Some(v),
            _ => {}
        }
    }
    Ok((
        name.ok_or("a part's Content-Disposition has no name")?,
        filename,
    ))
}

/// The first `needle` in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let off = hay[i..hay.len() + 1 - needle.len()]
            .iter()
            .position(|&c| c == first)?;
        i += off;
        if hay[i..].starts_with(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boundary_is_read_from_the_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc123").as_deref(),
            Some("abc123")
        );
        assert_eq!(
            boundary("Multipart/Form-Data; charset=x; boundary=\"q r\"").as_deref(),
            Some("q r")
        );
        assert_eq!(boundary("application/json"), None);
    }

    #[test]
    fn fields_and_files_are_read_as_an_sdk_sends_them() {
        let body = b"--xyz\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\n{\"a\":1}\r\n{\"b\":2}\n\r\n--xyz--\r\n";
        let parts = parse(body, "xyz").unwrap_or_default();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].name.as_str(), parts[0].data),
            ("purpose", &b"batch"[..])
        );
        assert_eq!(parts[1].filename.as_deref(), Some("in.jsonl"));
        assert_eq!(parts[1].data, b"{\"a\":1}\r\n{\"b\":2}\n");
    }

    #[test]
    fn a_truncated_body_is_refused() {
        let body = b"--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc";
        assert!(parse(body, "xyz").is_err());
        assert!(parse(b"no boundary here", "xyz").is_err());
    }
}
