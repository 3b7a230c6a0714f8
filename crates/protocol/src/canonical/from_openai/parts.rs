//! Content-part arrays → canonical blocks, read from the parts the borrowed view parsed and
//! checked (`openai::Part`: its text, refusal, `image_url` and `cache_control`).

use crate::FieldError;
use crate::canonical::{Block, CacheControl, ImageSource};
use crate::openai;
use serde_json::value::RawValue;

/// `cache_control` as OpenAI-dialect clients of Anthropic models send it on parts and tools
/// (`{"type":"ephemeral","ttl":"1h"}`), in the OpenAI view's model.
impl From<openai::CacheControl> for CacheControl {
    fn from(w: openai::CacheControl) -> Self {
        CacheControl { ttl: w.ttl }
    }
}

/// The blocks of message `i`'s content parts, as the view parsed (and checked) them.
pub(super) fn blocks(parts: &[openai::Part<'_>], i: usize) -> Result<Vec<Block>, FieldError> {
    parts
        .iter()
        .enumerate()
        .map(|(j, p)| part_block(p, &format!("messages[{i}].content[{j}]")))
        .collect()
}

fn part_block(p: &openai::Part<'_>, path: &str) -> Result<Block, FieldError> {
    let cache_control = p
        .cache_control
        .as_ref()
        .map(|c| CacheControl { ttl: c.ttl.clone() });
    match (p.kind.as_ref(), &p.text, p.refusal, p.image_url) {
        ("text", Some(text), _, _) => Ok(Block::Text {
            text: text.to_string(),
            cache_control,
        }),
        // An assistant's earlier refusal is what it said; replay it as text.
        ("refusal", _, Some(text), _) => Ok(Block::Text {
            text: string(text, &format!("{path}.refusal"))?,
            cache_control,
        }),
        ("image_url", _, _, Some(image)) => Ok(Block::Image {
            source: image_source(&image_url(image, path)?, &format!("{path}.image_url.url"))?,
            cache_control,
        }),
        ("image_url", ..) => Err(FieldError::new(
            format!("{path}.image_url"),
            format!("`{path}.image_url` with a `url` is required on a part of type \"image_url\"."),
        )),
        (kind, ..) => Err(FieldError::new(
            format!("{path}.type"),
            format!(
                "`{path}.type`: content parts of type {kind:?} are not supported on this route, whose provider speaks another dialect; send text or image_url parts."
            ),
        )),
    }
}

fn string(v: &RawValue, path: &str) -> Result<String, FieldError> {
    serde_json::from_str::<String>(v.get()).map_err(|e| FieldError::from_serde(path, &e))
}

/// The URL of a part's `image_url` (the view checked that it is a non-empty string).
fn image_url(v: &RawValue, path: &str) -> Result<String, FieldError> {
    let path = format!("{path}.image_url");
    let img: openai::ImageUrl =
        serde_json::from_str(v.get()).map_err(|e| FieldError::from_serde(&path, &e))?;
    let url = img.url.ok_or_else(|| {
        FieldError::new(format!("{path}.url"), format!("`{path}.url` is required."))
    })?;
    string(url, &format!("{path}.url"))
}

/// An `http(s)` URL as is, or a `data:<media type>;base64,<data>` URL split into its parts.
fn image_source(url: &str, path: &str) -> Result<ImageSource, FieldError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(ImageSource::Url(url.to_string()));
    };
    match rest.split_once(',') {
        Some((meta, data)) if meta.ends_with(";base64") => Ok(ImageSource::Base64 {
            media_type: meta.trim_end_matches(";base64").to_string(),
            data: data.to_string(),
        }),
        _ => Err(FieldError::new(
            path,
            format!(
                "`{path}`: a data URL must be base64-encoded: data:<media type>;base64,<data>."
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_are_split_and_others_kept() {
        assert_eq!(
            image_source("data:image/png;base64,AAAA", "p").ok(),
            Some(ImageSource::Base64 {
                media_type: "image/png".into(),
                data: "AAAA".into()
            })
        );
        assert_eq!(
            image_source("https://x/y.png", "p").ok(),
            Some(ImageSource::Url("https://x/y.png".into()))
        );
        let err = image_source("data:image/png,raw", "messages[0].content[1].image_url.url");
        assert_eq!(
            err.err().and_then(|e| e.param).as_deref(),
            Some("messages[0].content[1].image_url.url")
        );
    }
}
