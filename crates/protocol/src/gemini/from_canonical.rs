//! Canonical request → Gemini `generateContent` body. Where the dialects' rules differ (tool
//! results matched by name, images by URL, schema keywords, no parallel-call switch) the
//! choice made is documented on the item that makes it.
//!
//! Dropped without a field to carry them: `metadata_user` (Gemini has no end-user id) and
//! thinking blocks of earlier turns. Function calls get back the thought signature their
//! tool-call id carries (see `signature`), which Gemini 3 requires on replayed calls.

use super::request::{
    Blob, Content, Extra, FileData, FunctionCall, FunctionCallingConfig, FunctionDeclaration,
    FunctionResponse, GenerateContentRequest, GenerationConfig, Part, Tool, ToolConfig,
};
use super::schema::for_gemini;
use crate::FieldError;
use crate::canonical::{self, Block, ImageSource, ResponseFormat, Role};
use serde::Serialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;

/// Top-level members this body writes itself (or the OpenAI spellings of them); `extra`
/// members with these names are dropped so the body never has duplicate keys.
const OWN_FIELDS: &[&str] = &[
    "contents",
    "systemInstruction",
    "system_instruction",
    "tools",
    "toolConfig",
    "tool_config",
    "generationConfig",
    "generation_config",
    "thinkingConfig",
    "thinking_config",
];

/// The client's `thinkingConfig` (Gemini's name, or its snake_case spelling) belongs inside
/// `generationConfig`; OpenAI clients can only send it at the top level.
const THINKING_KEYS: &[&str] = &["thinkingConfig", "thinking_config"];

impl<'a> TryFrom<&'a canonical::ChatRequest> for GenerateContentRequest<'a> {
    type Error = FieldError;

    /// Fails only for content Gemini cannot take: an image URL whose type cannot be told,
    /// or a tool result for a call the conversation never made.
    fn try_from(req: &'a canonical::ChatRequest) -> Result<Self, FieldError> {
        let system: Vec<Part<'a>> = req.system.iter().filter_map(system_part).collect();
        Ok(GenerateContentRequest {
            contents: contents(&req.messages)?,
            system_instruction: (!system.is_empty()).then_some(Content {
                role: None,
                parts: system,
            }),
            tools: tools(&req.tools),
            tool_config: tool_config(req),
            generation_config: generation_config(req),
            extra: Extra(
                req.extra
                    .iter()
                    .filter(|(k, _)| !OWN_FIELDS.contains(&k.as_str()))
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), v.as_ref()))
                    .collect(),
            ),
        })
    }
}

fn system_part(b: &Block) -> Option<Part<'_>> {
    match b {
        Block::Text { text, .. } if !text.is_empty() => Some(Part::Text(text)),
        _ => None,
    }
}

/// Turns as Gemini `contents`: assistant turns are `model`, tool results travel in `user`
/// turns, and consecutive turns of one role are merged (parallel calls' responses must share
/// one turn). Turns left without parts are skipped, since Gemini rejects empty `parts`.
fn contents(turns: &[canonical::Turn]) -> Result<Vec<Content<'_>>, FieldError> {
    // Gemini's calls and responses carry no id: a response names its function. The map is
    // filled as the conversation is walked, so an id reused by a later turn (generated ids
    // restart at `call_0` on every answer) resolves to the latest call with that id.
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut out: Vec<Content<'_>> = Vec::with_capacity(turns.len());
    for turn in turns {
        let role = match turn.role {
            Role::User | Role::Tool => "user",
            Role::Assistant => "model",
        };
        let mut parts = Vec::with_capacity(turn.content.len());
        for b in &turn.content {
            if let Some(p) = part(b, &mut names)? {
                parts.push(p);
            }
        }
        if parts.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == Some(role) => last.parts.extend(parts),
            _ => out.push(Content {
                role: Some(role),
                parts,
            }),
        }
    }
    Ok(out)
}

/// One block as a part. Empty text is dropped (Gemini rejects it; OpenAI clients send `""`
/// beside tool calls). Thinking is dropped: Gemini does not take thoughts back as input.
fn part<'a>(
    b: &'a Block,
    names: &mut HashMap<&'a str, &'a str>,
) -> Result<Option<Part<'a>>, FieldError> {
    Ok(match b {
        Block::Text { text, .. } if !text.is_empty() => Some(Part::Text(text)),
        Block::Text { .. } | Block::Thinking { .. } | Block::RedactedThinking { .. } => None,
        Block::Image { source, .. } => Some(image(source)?),
        Block::ToolUse {
            id, name, input, ..
        } => {
            names.insert(id, name);
            Some(Part::FunctionCall(FunctionCall {
                name,
                args: input,
                thought_signature: super::signature::signature_of(id),
            }))
        }
        Block::ToolResult {
            tool_use_id,
            content,
            is_error,
            ..
        } => {
            let Some(name) = names.get(tool_use_id.as_str()) else {
                return Err(FieldError::new(
                    "messages",
                    format!(
                        "The tool result for `tool_call_id` {tool_use_id:?} answers no earlier assistant tool call; Gemini matches results to calls by function name, so send the assistant message with that call first."
                    ),
                ));
            };
            Some(Part::FunctionResponse(FunctionResponse {
                name,
                response: tool_response(content, *is_error),
            }))
        }
    })
}

#[derive(Serialize)]
struct Wrapped<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// `functionResponse.response` must be an object: a result that is a JSON object is sent as
/// is; other text is wrapped as `{"result": text}` (or `{"error": text}` for a failed call).
/// Images in tool results have no place here and are dropped.
fn tool_response(content: &[Block], is_error: bool) -> Box<RawValue> {
    let text: String = content
        .iter()
        .filter_map(|b| match b {
            Block::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let trimmed = text.trim();
    if !is_error
        && trimmed.starts_with('{')
        && let Ok(raw) = serde_json::from_str::<&RawValue>(trimmed)
    {
        return raw.to_owned();
    }
    let wrapped = if is_error {
        Wrapped {
            result: None,
            error: Some(&text),
        }
    } else {
        Wrapped {
            result: Some(&text),
            error: None,
        }
    };
    // A struct of strings: serialising cannot fail.
    serde_json::value::to_raw_value(&wrapped).unwrap_or_else(|_| text_fallback())
}

fn text_fallback() -> Box<RawValue> {
    RawValue::from_string("{}".to_string()).unwrap_or_default()
}

/// Base64 images go inline; URLs become `fileData`, which needs a MIME type: it is read from
/// the URL's file extension, and a URL without a known one is refused rather than guessed.
fn image(source: &ImageSource) -> Result<Part<'_>, FieldError> {
    match source {
        ImageSource::Base64 { media_type, data } => Ok(Part::InlineData(Blob {
            mime_type: media_type,
            data,
        })),
        ImageSource::Url(url) => match mime_from_url(url) {
            Some(mime_type) => Ok(Part::FileData(FileData {
                mime_type,
                file_uri: url,
            })),
            None => Err(FieldError::new(
                "messages",
                format!(
                    "Gemini needs the type of image {url:?}, and its URL has no known image extension (.png, .jpg, .jpeg, .webp, .gif, .heic, .heif); send it as a base64 data URL instead."
                ),
            )),
        },
    }
}

fn mime_from_url(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        _ => return None,
    })
}

/// All functions in one `tools` entry, their schemas stripped of keywords Gemini rejects
/// (see `schema`).
fn tools(defs: &[canonical::ToolDef]) -> Vec<Tool<'_>> {
    if defs.is_empty() {
        return Vec::new();
    }
    vec![Tool {
        function_declarations: defs
            .iter()
            .map(|t| FunctionDeclaration {
                name: &t.name,
                description: t.description.as_deref(),
                parameters: t.parameters.as_deref().map(for_gemini),
            })
            .collect(),
    }]
}

/// `toolConfig.functionCallingConfig`; omitted without tools or a choice. A named tool is
/// `ANY` restricted to that name. Gemini has no switch for `parallel_tool_calls: false`; it is
/// ignored, so a Gemini answer may still hold several calls.
fn tool_config(req: &canonical::ChatRequest) -> Option<ToolConfig<'_>> {
    if req.tools.is_empty() {
        return None;
    }
    let (mode, allowed_function_names) = match req.tool_choice.as_ref()? {
        canonical::ToolChoice::Auto => ("AUTO", Vec::new()),
        canonical::ToolChoice::Any => ("ANY", Vec::new()),
        canonical::ToolChoice::None => ("NONE", Vec::new()),
        canonical::ToolChoice::Tool(name) => ("ANY", vec![name.as_str()]),
    };
    Some(ToolConfig {
        function_calling_config: FunctionCallingConfig {
            mode,
            allowed_function_names,
        },
    })
}

/// Sampling, limits and output format. `json_object` asks for JSON by MIME type alone; a JSON
/// schema also becomes `responseSchema` (stripped like tool schemas).
fn generation_config(req: &canonical::ChatRequest) -> GenerationConfig<'_> {
    let (response_mime_type, response_schema) = match &req.response_format {
        ResponseFormat::Text => (None, None),
        ResponseFormat::JsonObject => (Some("application/json"), None),
        ResponseFormat::JsonSchema { schema, .. } => {
            (Some("application/json"), schema.as_deref().map(for_gemini))
        }
    };
    GenerationConfig {
        temperature: req.temperature,
        top_p: req.top_p,
        max_output_tokens: req.max_tokens,
        stop_sequences: req.stop.iter().map(String::as_str).collect(),
        response_mime_type,
        response_schema,
        thinking_config: req
            .extra
            .iter()
            .find(|(k, _)| THINKING_KEYS.contains(&k.as_str()))
            .map(|(_, v)| Cow::Borrowed(v.as_ref()))
            .or_else(|| effort_budget(req.reasoning_effort.as_deref()).map(Cow::Owned)),
    }
}

/// `thinkingConfig` for a reasoning effort, with the budgets Google's OpenAI-compatibility
/// layer documents for `reasoning_effort`: `none` 0 (thinking off), `low` 1,024, `medium`
/// 8,192, `high` 24,576 thinking tokens. Efforts it documents no budget for (`minimal`) set
/// nothing: the model's default applies.
fn effort_budget(effort: Option<&str>) -> Option<Box<RawValue>> {
    let budget = match effort? {
        "none" => 0,
        "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
        _ => return None,
    };
    RawValue::from_string(format!("{{\"thinkingBudget\":{budget}}}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_types_come_from_the_url_extension() {
        assert_eq!(mime_from_url("https://x/a.PNG?sig=1"), Some("image/png"));
        assert_eq!(mime_from_url("gs://b/c.jpeg"), Some("image/jpeg"));
        assert_eq!(mime_from_url("https://x/image"), None);
    }

    #[test]
    fn non_object_tool_results_are_wrapped() {
        let ok = tool_response(&[Block::text("22 degrees")], false);
        assert_eq!(ok.get(), r#"{"result":"22 degrees"}"#);
        let obj = tool_response(&[Block::text(r#" {"t": 22} "#)], false);
        assert_eq!(obj.get(), r#"{"t": 22}"#);
        let err = tool_response(&[Block::text("boom")], true);
        assert_eq!(err.get(), r#"{"error":"boom"}"#);
    }
}
