//! `POST /v1/embeddings` requests.

use super::raw::RawObject;
use crate::FieldError;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
#[serde(untagged)]
enum Input<'a> {
    One(#[serde(borrow)] Cow<'a, str>),
    Many(#[serde(borrow)] Vec<Cow<'a, str>>),
    Tokens(Vec<u32>),
    TokenBatches(Vec<Vec<u32>>),
}

/// A validated embeddings request.
#[derive(Debug)]
pub struct EmbeddingRequest<'a> {
    raw: RawObject<'a>,
    pub model: Cow<'a, str>,
    /// The text inputs (empty when the input is pre-tokenised).
    pub texts: Vec<Cow<'a, str>>,
    /// Token count when the client sent token ids.
    pub pretokenized: u64,
    /// The vector size the client asked for, if any (other dialects must map it, or refuse).
    pub dimensions: Option<u32>,
}

impl<'a> EmbeddingRequest<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, FieldError> {
        let raw = RawObject::parse(body)?;
        let model: Cow<'a, str> = raw.decode("model")?.ok_or_else(|| {
            FieldError::new("model", "`model` is required: name an embeddings route.")
        })?;
        let input = raw.get("input").ok_or_else(|| {
            FieldError::new(
                "input",
                "`input` is required: a string or an array of strings.",
            )
        })?;
        let input: Input<'a> = serde_json::from_str(input.get()).map_err(|_| {
            FieldError::new(
                "input",
                "`input` must be a string, an array of strings, or an array of token ids.",
            )
        })?;
        let (texts, pretokenized) = match input {
            Input::One(s) => (vec![s], 0),
            Input::Many(v) => (v, 0),
            Input::Tokens(t) => (Vec::new(), t.len() as u64),
            Input::TokenBatches(b) => (Vec::new(), b.iter().map(|t| t.len() as u64).sum()),
        };
        if texts.is_empty() && pretokenized == 0 {
            return Err(FieldError::new("input", "`input` must not be empty."));
        }
        if texts.len() > 2048 {
            return Err(FieldError::new(
                "input",
                "`input` takes at most 2048 items.",
            ));
        }
        if let Some(fmt) = raw.decode::<Cow<str>>("encoding_format")? {
            if fmt != "float" && fmt != "base64" {
                return Err(FieldError::new(
                    "encoding_format",
                    "`encoding_format` must be \"float\" or \"base64\".",
                ));
            }
        }
        let dimensions = raw.decode::<u32>("dimensions")?;
        if dimensions == Some(0) {
            return Err(FieldError::new(
                "dimensions",
                "`dimensions` must be at least 1.",
            ));
        }
        Ok(EmbeddingRequest {
            raw,
            model,
            texts,
            pretokenized,
            dimensions,
        })
    }

    /// The body for a same-dialect upstream, with `model` replaced.
    pub fn upstream_body(&self, model: &str, omit_model: bool) -> Vec<u8> {
        self.raw.with_model((!omit_model).then_some(model))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_strings_batches_and_tokens() {
        assert_eq!(
            EmbeddingRequest::parse(br#"{"model":"e","input":"hi"}"#)
                .unwrap()
                .texts
                .len(),
            1
        );
        assert_eq!(
            EmbeddingRequest::parse(br#"{"model":"e","input":["a","b"]}"#)
                .unwrap()
                .texts
                .len(),
            2
        );
        assert_eq!(
            EmbeddingRequest::parse(br#"{"model":"e","input":[[1,2],[3]]}"#)
                .unwrap()
                .pretokenized,
            3
        );
    }

    #[test]
    fn rejects_bad_input_naming_the_field() {
        for body in [
            r#"{"model":"e"}"#,
            r#"{"model":"e","input":[]}"#,
            r#"{"model":"e","input":{"a":1}}"#,
        ] {
            assert_eq!(
                EmbeddingRequest::parse(body.as_bytes())
                    .unwrap_err()
                    .param
                    .as_deref(),
                Some("input"),
                "{body}"
            );
        }
        let e = EmbeddingRequest::parse(br#"{"model":"e","input":"x","encoding_format":"hex"}"#)
            .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("encoding_format"));
    }

    #[test]
    fn upstream_body_swaps_the_model_only() {
        let r = EmbeddingRequest::parse(br#"{"input":"x","model":"e","dimensions":8}"#).unwrap();
        assert_eq!(r.dimensions, Some(8));
        assert_eq!(
            r.upstream_body("text-embedding-3-small", false),
            br#"{"input":"x","model":"text-embedding-3-small","dimensions":8}"#.to_vec()
        );
    }
}
