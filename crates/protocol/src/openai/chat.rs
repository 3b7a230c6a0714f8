//! `POST /v1/chat/completions` requests: a validated, borrowed view over the client's body.

use super::raw::{RawObject, write_json_string, write_key};
use super::{checks, message_checks, tools};
use crate::{Feature, FeatureSet, FieldError};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Top-level members the OpenAI specification defines. Anything else is a provider-specific
/// parameter: passed through untouched and recorded as a feature.
const KNOWN_KEYS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "seed",
    "user",
    "metadata",
    "stream",
    "stream_options",
    "n",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "reasoning_effort",
    "modalities",
    "audio",
    "prediction",
    "store",
    "service_tier",
    "functions",
    "function_call",
    "web_search_options",
    "verbosity",
    "prompt_cache_key",
    "safety_identifier",
];

/// The most provider-specific parameters recorded as features, and the longest name kept.
const MAX_PARAM_FEATURES: usize = 32;
const MAX_PARAM_NAME_BYTES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    Function,
}

/// One message. Fields Switchyard does not model stay in the raw body.
#[derive(Debug, Deserialize)]
pub struct Message<'a> {
    pub role: Role,
    #[serde(borrow = "'a", default)]
    pub content: Option<Content<'a>>,
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub tool_call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub tool_calls: Option<&'a RawValue>,
}

/// Message content: a string or an array of typed parts.
#[derive(Debug)]
pub enum Content<'a> {
    Text(Cow<'a, str>),
    Parts(Vec<Part<'a>>),
}

#[derive(Debug, Deserialize)]
pub struct Part<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub image_url: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub input_audio: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub file: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub refusal: Option<&'a RawValue>,
    /// A prompt-cache breakpoint on this part (Anthropic's extension).
    #[serde(default)]
    pub cache_control: Option<super::CacheControl>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Content<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of content parts")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Content::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Content::Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Content::Text(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts = Vec::new();
                while let Some(p) = seq.next_element()? {
                    parts.push(p);
                }
                Ok(Content::Parts(parts))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: Option<bool>,
}

/// A validated chat completion request, borrowing from the body it was parsed from.
#[derive(Debug)]
pub struct ChatRequest<'a> {
    raw: RawObject<'a>,
    pub model: Cow<'a, str>,
    pub messages: Vec<Message<'a>>,
    pub stream: bool,
    /// The client itself asked for `stream_options.include_usage`.
    pub client_wants_usage: bool,
    /// `max_completion_tokens`, else `max_tokens`.
    pub max_output_tokens: Option<u64>,
    pub features: FeatureSet,
    tool_names: Vec<Cow<'a, str>>,
}

/// How to write the body for a same-dialect upstream.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamBody<'m> {
    /// The provider's model name, replacing the client's logical route name.
    pub model: &'m str,
    /// Ask a streaming upstream to report usage (`stream_options.include_usage`).
    pub ask_usage: bool,
    /// Omit `model` entirely (Azure names the deployment in the URL).
    pub omit_model: bool,
    /// `prompt_cache_key` to add when the client set none (the route's prompt-cache setting).
    pub cache_key: Option<&'m str>,
}

impl<'a> ChatRequest<'a> {
    /// Parses and validates `body`; the first invalid field is reported by its path.
    pub fn parse(body: &'a [u8]) -> Result<Self, FieldError> {
        let raw = RawObject::parse(body)?;
        let model: Cow<'a, str> = raw.decode("model")?.ok_or_else(|| {
            FieldError::new(
                "model",
                "`model` is required: name a route, e.g. \"model\": \"gpt-4o-mini\".",
            )
        })?;
        if model.trim().is_empty() {
            return Err(FieldError::new("model", "`model` must not be empty."));
        }
        crate::check_identifier("model", &model)?;
        let messages = parse_messages(&raw)?;
        let stream = raw.decode::<bool>("stream")?.unwrap_or(false);
        let opts: Option<StreamOptions> = raw.decode("stream_options")?;
        if opts.is_some() && !stream {
            return Err(FieldError::new(
                "stream_options",
                "`stream_options` is only allowed when `stream` is true.",
            ));
        }
        let client_wants_usage = opts.and_then(|o| o.include_usage).unwrap_or(false);
        let mut req = ChatRequest {
            model,
            messages,
            stream,
            client_wants_usage,
            max_output_tokens: None,
            features: FeatureSet::default(),
            tool_names: Vec::new(),
            raw,
        };
        req.validate_sampling()?;
        req.tool_names = tools::names(&req.raw)?;
        tools::choice(&req.raw, &req.tool_names)?;
        if let Some(f) = tools::response_format(&req.raw)? {
            req.features.insert(f);
        }
        req.collect_features();
        Ok(req)
    }

    fn validate_sampling(&mut self) -> Result<(), FieldError> {
        self.max_output_tokens = checks::sampling(&self.raw)?;
        Ok(())
    }

    fn collect_features(&mut self) {
        if !self.tool_names.is_empty() || self.raw.get("functions").is_some() {
            self.features.insert(Feature::Tools);
        }
        if self.raw.get("parallel_tool_calls").map(|v| v.get()) == Some("true")
            && !self.tool_names.is_empty()
        {
            self.features.insert(Feature::ParallelToolCalls);
        }
        if self.raw.get("reasoning_effort").is_some() {
            self.features.insert(Feature::Reasoning);
        }
        if self.raw.get("logprobs").map(|v| v.get()) == Some("true") {
            self.features.insert(Feature::Logprobs);
        }
        if self.raw.get("audio").is_some() {
            self.features.insert(Feature::Audio);
        }
        for m in &self.messages {
            if let Some(Content::Parts(parts)) = &m.content {
                for p in parts {
                    match p.kind.as_ref() {
                        "image_url" | "image" => self.features.insert(Feature::Vision),
                        "input_audio" => self.features.insert(Feature::Audio),
                        _ => {}
                    }
                }
            }
        }
        // The ledger stores these names: each is bounded, and past MAX_PARAM_FEATURES the
        // rest are counted as one "…".
        let mut unknown: Vec<String> = self
            .raw
            .iter()
            .filter(|(k, _)| !KNOWN_KEYS.contains(k))
            .map(|(k, _)| crate::bounded_to(k, MAX_PARAM_NAME_BYTES).into_owned())
            .collect();
        if unknown.len() > MAX_PARAM_FEATURES {
            unknown.truncate(MAX_PARAM_FEATURES);
            unknown.push(crate::TRUNCATED.to_string());
        }
        for k in unknown {
            self.features.insert(Feature::ProviderParam(k));
        }
    }

    /// Whether the request declares tools.
    pub fn has_tools(&self) -> bool {
        !self.tool_names.is_empty()
    }

    /// The raw top-level members.
    pub fn raw(&self) -> &RawObject<'a> {
        &self.raw
    }

    /// Every piece of prompt text, for tokenising when an upstream reports no usage.
    pub fn prompt_texts(&self) -> impl Iterator<Item = &str> {
        self.messages.iter().flat_map(|m| {
            let content: Vec<&str> = match &m.content {
                Some(Content::Text(t)) => vec![t.as_ref()],
                Some(Content::Parts(ps)) => ps.iter().filter_map(|p| p.text.as_deref()).collect(),
                None => Vec::new(),
            };
            content.into_iter().chain(m.tool_calls.map(|r| r.get()))
        })
    }

    /// Re-emits the body for a same-dialect upstream: every member byte for byte, in order,
    /// except `model` (renamed to the target's) and `stream_options` (usage requested).
    pub fn upstream_body(&self, opts: UpstreamBody<'_>) -> Vec<u8> {
        let body_len: usize = self
            .raw
            .iter()
            .map(|(k, v)| k.len() + v.get().len() + 4)
            .sum();
        let mut out = Vec::with_capacity(body_len + 48);
        out.push(b'{');
        let mut first = true;
        let mut sep = |out: &mut Vec<u8>| {
            if !first {
                out.push(b',');
            }
            first = false;
        };
        let force_usage = opts.ask_usage && self.stream;
        // The forced `stream_options` takes the client's member's place (or goes last), so the
        // rewrite of a rewritten body is the same bytes.
        let mut wrote_options = false;
        for (k, v) in self.raw.iter() {
            match k {
                "model" if opts.omit_model => continue,
                "model" => {
                    sep(&mut out);
                    write_key(&mut out, "model");
                    write_json_string(&mut out, opts.model);
                }
                "stream_options" if force_usage => {
                    sep(&mut out);
                    write_key(&mut out, "stream_options");
                    write_stream_options(&mut out, Some(v));
                    wrote_options = true;
                }
                _ => {
                    sep(&mut out);
                    write_key(&mut out, k);
                    out.extend_from_slice(v.get().as_bytes());
                }
            }
        }
        if force_usage && !wrote_options {
            sep(&mut out);
            write_key(&mut out, "stream_options");
            write_stream_options(&mut out, self.raw.get("stream_options"));
        }
        if let Some(key) = opts
            .cache_key
            .filter(|_| self.raw.get("prompt_cache_key").is_none())
        {
            sep(&mut out);
            write_key(&mut out, "prompt_cache_key");
            write_json_string(&mut out, key);
        }
        out.push(b'}');
        out
    }
}

/// `stream_options` with `include_usage: true`, keeping any other option the client set.
fn write_stream_options(out: &mut Vec<u8>, existing: Option<&RawValue>) {
    out.extend_from_slice(br#"{"include_usage":true"#);
    if let Some(obj) = existing.and_then(|r| RawObject::parse(r.get().as_bytes()).ok()) {
        for (k, v) in obj.iter().filter(|(k, _)| *k != "include_usage") {
            out.push(b',');
            write_key(out, k);
            out.extend_from_slice(v.get().as_bytes());
        }
    }
    out.push(b'}');
}

fn parse_messages<'a>(raw: &RawObject<'a>) -> Result<Vec<Message<'a>>, FieldError> {
    let list = raw.get("messages").ok_or_else(|| {
        FieldError::new(
            "messages",
            "`messages` is required: an array of {\"role\", \"content\"} objects.",
        )
    })?;
    // Fast path: one scan. Only when it fails is the list re-read item by item, to name the
    // failing index.
    let messages: Vec<Message<'a>> = match serde_json::from_str(list.get()) {
        Ok(m) => m,
        Err(e) => return Err(locate_message_error(list, &e)),
    };
    if messages.is_empty() {
        return Err(FieldError::new(
            "messages",
            "`messages` must contain at least one message.",
        ));
    }
    for (i, m) in messages.iter().enumerate() {
        message_checks::message(m, i)?;
    }
    Ok(messages)
}

fn locate_message_error(list: &RawValue, whole: &serde_json::Error) -> FieldError {
    let items: Vec<&RawValue> = match serde_json::from_str(list.get()) {
        Ok(items) => items,
        Err(e) => return FieldError::from_serde("messages", &e),
    };
    for (i, item) in items.iter().enumerate() {
        if let Err(e) = serde_json::from_str::<Message<'_>>(item.get()) {
            return FieldError::from_serde(&format!("messages[{i}]"), &e);
        }
    }
    FieldError::from_serde("messages", whole)
}

#[cfg(test)]
#[path = "chat_tests.rs"]
mod tests;
