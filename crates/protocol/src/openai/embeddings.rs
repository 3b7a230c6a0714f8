//! `POST /v1/embeddings` requests, and the vectors of an answer in the encoding asked for.

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
    /// `encoding_format: "base64"`: vectors are answered as base64 of little-endian `f32`s
    /// (the openai SDKs ask for this by default); see [`encode_vector`].
    pub base64: bool,
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
        let format = raw.decode::<Cow<str>>("encoding_format")?;
        if let Some(fmt) = &format {
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
            base64: format.as_deref() == Some("base64"),
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

/// One vector as an OpenAI `embedding` value: an array of numbers, or with `base64` the
/// base64 (standard, padded) of its values as little-endian `f32`s, as OpenAI answers
/// `encoding_format: "base64"`. For upstreams that only return numbers.
pub fn encode_vector(values: &[f64], base64: bool) -> serde_json::Value {
    if !base64 {
        return serde_json::json!(values);
    }
    use base64::Engine as _;
    let bytes: Vec<u8> = values
        .iter()
        .flat_map(|&v| (v as f32).to_le_bytes())
        .collect();
    serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
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
    fn vectors_are_encoded_as_the_client_asked() {
        assert_eq!(
            encode_vector(&[0.5, -1.0], false),
            serde_json::json!([0.5, -1.0])
        );
        // 0.5f32 = 00 00 00 3f, -1.0f32 = 00 00 80 bf (little-endian).
        assert_eq!(encode_vector(&[0.5, -1.0], true), "AAAAPwAAgL8=");
        assert_eq!(encode_vector(&[1.0], true), "AACAPw==");
        let r = EmbeddingRequest::parse(br#"{"model":"e","input":"x","encoding_format":"base64"}"#)
            .unwrap();
        assert!(r.base64);
        assert!(
            !EmbeddingRequest::parse(br#"{"model":"e","input":"x"}"#)
                .unwrap()
                .base64
        );
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
