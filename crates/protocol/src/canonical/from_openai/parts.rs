//! Content-part arrays → canonical blocks.
//!
//! The borrowed view keeps only each part's type and text, so messages whose content is an
//! array are re-read here from the raw body (one extra scan of `messages`, and only when some
//! message uses parts): image URLs and `cache_control` breakpoints live there.

use crate::FieldError;
use crate::canonical::{Block, CacheControl, ImageSource};
use crate::openai::RawObject;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `cache_control` as OpenAI-dialect clients of Anthropic models send it on parts and tools
/// (`{"type":"ephemeral","ttl":"1h"}`).
#[derive(Deserialize)]
pub(super) struct WireCacheControl {
    #[serde(default)]
    ttl: Option<String>,
}

impl From<WireCacheControl> for CacheControl {
    fn from(w: WireCacheControl) -> Self {
        CacheControl { ttl: w.ttl }
    }
}

#[derive(Deserialize)]
struct WireMessage<'a> {
    #[serde(borrow)]
    content: Vec<WirePart<'a>>,
}

#[derive(Deserialize)]
struct WirePart<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    refusal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    image_url: Option<WireImageUrl<'a>>,
    #[serde(default)]
    cache_control: Option<WireCacheControl>,
}

#[derive(Deserialize)]
struct WireImageUrl<'a> {
    #[serde(borrow)]
    url: Cow<'a, str>,
}

/// Lazily split `messages` into raw items, at most once per request.
pub(super) struct RichParts<'r, 'a> {
    raw: &'r RawObject<'a>,
    items: Option<Vec<&'a RawValue>>,
}

impl<'r, 'a> RichParts<'r, 'a> {
    pub(super) fn new(raw: &'r RawObject<'a>) -> Self {
        RichParts { raw, items: None }
    }

    /// The blocks of message `i`, whose content the view saw as an array of parts.
    pub(super) fn blocks(&mut self, i: usize) -> Result<Vec<Block>, FieldError> {
        if self.items.is_none() {
            self.items = Some(self.raw.decode("messages")?.unwrap_or_default());
        }
        let path = format!("messages[{i}]");
        let item = self
            .items
            .as_ref()
            .and_then(|items| items.get(i))
            .ok_or_else(|| FieldError::new(path.clone(), format!("`{path}` is missing.")))?;
        let message: WireMessage =
            serde_json::from_str(item.get()).map_err(|e| FieldError::from_serde(&path, &e))?;
        message
            .content
            .into_iter()
            .enumerate()
            .map(|(j, p)| part_block(p, &format!("{path}.content[{j}]")))
            .collect()
    }
}

fn part_block(p: WirePart<'_>, path: &str) -> Result<Block, FieldError> {
    let cache_control = p.cache_control.map(CacheControl::from);
    match (p.kind.as_ref(), p.text, p.refusal, p.image_url) {
        ("text", Some(text), _, _) => Ok(Block::Text {
            text: text.into_owned(),
            cache_control,
        }),
        // An assistant's earlier refusal is what it said; replay it as text.
        ("refusal", _, Some(text), _) => Ok(Block::Text {
            text: text.into_owned(),
            cache_control,
        }),
        ("image_url", _, _, Some(image)) => Ok(Block::Image {
            source: image_source(&image.url, &format!("{path}.image_url.url"))?,
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
