//! Gemini `GenerateContentRequest` body: the wire types, borrowing strings from the canonical
//! request where they pass through unchanged. The conversion is in `from_canonical`.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A `generateContent` body, built with `GenerateContentRequest::try_from(&canonical)`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentRequest<'a> {
    pub contents: Vec<Content<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_instruction: Option<Content<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<ToolConfig<'a>>,
    #[serde(skip_serializing_if = "GenerationConfig::is_empty")]
    pub generation_config: GenerationConfig<'a>,
    /// Gemini parameters the client passed through (e.g. `safetySettings`, `cachedContent`).
    #[serde(flatten)]
    pub extra: Extra<'a>,
}

/// One turn (`role` is `user` or `model`), or the system instruction (no role).
#[derive(Debug, Serialize)]
pub struct Content<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    pub parts: Vec<Part<'a>>,
}

/// One part; Gemini tells parts apart by which single member they carry (a function call
/// may also carry its `thoughtSignature` beside it).
#[derive(Debug)]
pub enum Part<'a> {
    Text(&'a str),
    InlineData(Blob<'a>),
    FileData(FileData<'a>),
    FunctionCall(FunctionCall<'a>),
    FunctionResponse(FunctionResponse<'a>),
}

impl Serialize for Part<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        match self {
            Part::Text(t) => map.serialize_entry("text", t)?,
            Part::InlineData(b) => map.serialize_entry("inlineData", b)?,
            Part::FileData(f) => map.serialize_entry("fileData", f)?,
            Part::FunctionCall(c) => {
                map.serialize_entry("functionCall", c)?;
                if let Some(sig) = &c.thought_signature {
                    map.serialize_entry("thoughtSignature", sig)?;
                }
            }
            Part::FunctionResponse(r) => map.serialize_entry("functionResponse", r)?,
        }
        map.end()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Blob<'a> {
    pub mime_type: &'a str,
    /// Base64, as received.
    pub data: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileData<'a> {
    pub mime_type: &'static str,
    pub file_uri: &'a str,
}

#[derive(Debug, Serialize)]
pub struct FunctionCall<'a> {
    pub name: &'a str,
    pub args: &'a RawValue,
    /// Restored from the tool-call id; written beside `functionCall` in the part, not in it.
    #[serde(skip)]
    pub thought_signature: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FunctionResponse<'a> {
    pub name: &'a str,
    /// Always a JSON object: Gemini rejects any other `response`.
    pub response: Box<RawValue>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool<'a> {
    pub function_declarations: Vec<FunctionDeclaration<'a>>,
}

#[derive(Debug, Serialize)]
pub struct FunctionDeclaration<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    /// Omitted for a function without arguments (Gemini rejects an empty object schema's
    /// absent `properties` on some models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Box<RawValue>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolConfig<'a> {
    pub function_calling_config: FunctionCallingConfig<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCallingConfig<'a> {
    /// `AUTO`, `ANY` or `NONE`.
    pub mode: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_function_names: Vec<&'a str>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerationConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mime_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_schema: Option<Box<RawValue>>,
    /// Passed through from the client's top-level `thinkingConfig` (Gemini's own name), else
    /// a thinking budget for a Responses client's `reasoning.effort`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_config: Option<Cow<'a, RawValue>>,
}

impl GenerationConfig<'_> {
    fn is_empty(&self) -> bool {
        self.temperature.is_none()
            && self.top_p.is_none()
            && self.max_output_tokens.is_none()
            && self.stop_sequences.is_empty()
            && self.response_mime_type.is_none()
            && self.thinking_config.is_none()
    }
}

/// Pass-through members, serialised into the body's top level.
#[derive(Debug, Default)]
pub struct Extra<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

impl Serialize for Extra<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl GenerateContentRequest<'_> {
    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain structs, strings and already-valid raw JSON: serialising into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}
