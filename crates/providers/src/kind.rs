//! Provider kinds and their well-known defaults. The one place a kind is matched.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    OpenAi,
    Anthropic,
    Gemini,
    Azure,
    Mistral,
    Groq,
    DeepSeek,
    Together,
    Ollama,
    Vllm,
    LlamaCpp,
    /// Any other OpenAI-compatible server; `base_url` is required.
    OpenAiCompatible,
}

pub const ALL_KINDS: &[ProviderKind] = &[
    ProviderKind::OpenAi,
    ProviderKind::Anthropic,
    ProviderKind::Gemini,
    ProviderKind::Azure,
    ProviderKind::Mistral,
    ProviderKind::Groq,
    ProviderKind::DeepSeek,
    ProviderKind::Together,
    ProviderKind::Ollama,
    ProviderKind::Vllm,
    ProviderKind::LlamaCpp,
    ProviderKind::OpenAiCompatible,
];

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Azure => "azure",
            ProviderKind::Mistral => "mistral",
            ProviderKind::Groq => "groq",
            ProviderKind::DeepSeek => "deepseek",
            ProviderKind::Together => "together",
            ProviderKind::Ollama => "ollama",
            ProviderKind::Vllm => "vllm",
            ProviderKind::LlamaCpp => "llamacpp",
            ProviderKind::OpenAiCompatible => "openai-compatible",
        }
    }

    /// The public API's base URL, where there is one.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            ProviderKind::OpenAi => Some("https://api.openai.com/v1"),
            ProviderKind::Anthropic => Some("https://api.anthropic.com"),
            ProviderKind::Gemini => Some("https://generativelanguage.googleapis.com"),
            ProviderKind::Mistral => Some("https://api.mistral.ai/v1"),
            ProviderKind::Groq => Some("https://api.groq.com/openai/v1"),
            ProviderKind::DeepSeek => Some("https://api.deepseek.com/v1"),
            ProviderKind::Together => Some("https://api.together.xyz/v1"),
            ProviderKind::Ollama => Some("http://127.0.0.1:11434/v1"),
            ProviderKind::Vllm => Some("http://127.0.0.1:8000/v1"),
            ProviderKind::LlamaCpp => Some("http://127.0.0.1:8080/v1"),
            ProviderKind::Azure | ProviderKind::OpenAiCompatible => None,
        }
    }

    /// The standard environment variable holding the key.
    pub fn default_key_env(self) -> Option<&'static str> {
        match self {
            ProviderKind::OpenAi => Some("OPENAI_API_KEY"),
            ProviderKind::Anthropic => Some("ANTHROPIC_API_KEY"),
            ProviderKind::Gemini => Some("GEMINI_API_KEY"),
            ProviderKind::Azure => Some("AZURE_OPENAI_API_KEY"),
            ProviderKind::Mistral => Some("MISTRAL_API_KEY"),
            ProviderKind::Groq => Some("GROQ_API_KEY"),
            ProviderKind::DeepSeek => Some("DEEPSEEK_API_KEY"),
            ProviderKind::Together => Some("TOGETHER_API_KEY"),
            _ => None,
        }
    }

    /// The catalog provider whose prices apply: Azure bills OpenAI's list prices,
    /// self-hosted servers run open weights at no per-token price.
    pub fn catalog_provider(self) -> &'static str {
        match self {
            ProviderKind::OpenAi | ProviderKind::Azure => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Mistral => "mistral",
            ProviderKind::Groq => "groq",
            ProviderKind::DeepSeek => "deepseek",
            ProviderKind::Together => "together",
            ProviderKind::Ollama | ProviderKind::Vllm | ProviderKind::LlamaCpp => "local",
            ProviderKind::OpenAiCompatible => "",
        }
    }

    /// Whether a key is needed at all (local servers usually run without one).
    pub fn requires_key(self) -> bool {
        self.default_key_env().is_some()
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL_KINDS
            .iter()
            .copied()
            .find(|k| k.as_str() == s || (s == "llama.cpp" && *k == ProviderKind::LlamaCpp))
            .ok_or_else(|| {
                let names: Vec<_> = ALL_KINDS.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown provider kind {s:?}; use one of {}",
                    names.join(", ")
                )
            })
    }
}
