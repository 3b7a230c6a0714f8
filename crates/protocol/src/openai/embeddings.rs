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
        let model: Cow<'a, str> = raw
            .decode("model")?
            .filter(|m: &Cow<str>| !m.trim().is_empty())
            .ok_or_else(|| {
                FieldError::new("model", "`model` is required: name an embeddings route.")
            })?;
        crate::check_identifier("model", &model)?;
        let (texts, pretokenized) = input(&raw)?;
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
        raw.decode::<Cow<str>>("user")?;
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

/// The most inputs one request may embed (OpenAI's limit).
const MAX_INPUTS: usize = 2048;

/// `input`: a non-empty string, or 1..=2048 non-empty strings or token arrays. Returns the
/// texts and the pre-tokenised count.
fn input<'a>(raw: &RawObject<'a>) -> Result<(Vec<Cow<'a, str>>, u64), FieldError> {
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
    let lens: Vec<usize> = match &input {
        Input::One(s) => vec![s.len()],
        Input::Many(v) => v.iter().map(|s| s.len()).collect(),
        Input::Tokens(t) => vec![t.len()],
        Input::TokenBatches(b) => b.iter().map(Vec::len).collect(),
    };
    if lens.is_empty() {
        return Err(FieldError::new("input", "`input` must not be empty."));
    }
    if lens.len() > MAX_INPUTS {
        return Err(FieldError::new(
            "input",
            format!("`input` takes at most {MAX_INPUTS} items."),
        ));
    }
    if let Some(i) = lens.iter().position(|n| *n == 0) {
        let param = match input {
            Input::One(_) | Input::Tokens(_) => "input".to_string(),
            _ => format!("input[{i}]"),
        };
        return Err(FieldError::new(
            param.clone(),
            format!(
                "`{param}` must not be empty: every input needs at least one character or token."
            ),
        ));
    }
    Ok(match input {
        Input::One(s) => (vec![s], 0),
        Input::Many(v) => (v, 0),
        Input::Tokens(t) => (Vec::new(), t.len() as u64),
        Input::TokenBatches(b) => (Vec::new(), b.iter().map(|t| t.len() as u64).sum()),
    })
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

    #[test]
    fn empty_inputs_and_a_non_string_user_are_refused_by_param() {
        let cases = [
            (r#"{"model":"e","input":""}"#, "input"),
            (r#"{"model":"e","input":["a",""]}"#, "input[1]"),
            (r#"{"model":"e","input":[[1],[]]}"#, "input[1]"),
            (r#"{"model":"e","input":"x","user":5}"#, "user"),
            (r#"{"model":"","input":"x"}"#, "model"),
            (r#"{"model":"e\u0000","input":"x"}"#, "model"),
        ];
        for (body, want) in cases {
            let err = EmbeddingRequest::parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.param.as_deref(), Some(want), "{body}: {}", err.message);
        }
        assert!(EmbeddingRequest::parse(br#"{"model":"e","input":" ","user":"u"}"#).is_ok());
    }
}
