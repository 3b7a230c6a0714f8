//! The worst case a budget reservation holds: an upper bound on what a request can be billed
//! by any target of its route, computed without running a tokenizer.
//!
//! The prompt bound is the body's byte length plus explicit allowances for the parts whose
//! provider-side tokens bytes do not bound (images, files and media sent by reference, the tool
//! prompt a provider adds), capped at the target's context window. Why bytes bound every
//! tokenizer family, and where each allowance comes from: docs/governance.md#reservation.
//! It must never be below what a provider bills; settlement replaces it with the real cost.

use crate::TargetMeta;
use rust_decimal::Decimal;
use switchyard_catalog::ModelEntry;
use switchyard_primitives::Money;
use switchyard_protocol::canonical::{self, Block};
use switchyard_protocol::openai::{ChatRequest, Content};
use switchyard_router::Route;

/// Tokens a provider may add for tool use beyond the definitions' own text (which the body's
/// bytes already bound): Anthropic's published tool-use system prompt is at most 530 tokens
/// (Claude 3 Opus, `tool_choice` auto); OpenAI and Google publish none, and their framing is
/// a handful of tokens per function, far below this.
const TOOL_PROMPT: u64 = 600;

/// A part the provider fetches or decodes itself (a `file`, a by-reference document) can be
/// as large as the target's window; with no window known, the largest any model has.
const NO_WINDOW: u64 = 2_000_000;

/// Per-image allowances from the providers' published formulas, first match wins: `(creator,
/// model id prefix, tokens)`; an empty prefix is the creator's fallback.
const IMAGE_TOKENS: &[(&str, &str, u64)] = &[
    // gpt-4o-mini bills 2,833 + 5,667 per 512 px tile; a high-detail image has at most 8
    // tiles (scaled into 2048 x 2048, shortest side 768: 2 x 4 tiles).
    ("openai", "gpt-4o-mini", 2_833 + 5_667 * 8),
    // Patch-based models: at most 1,536 patches of 32 px, times 2.46 (gpt-4.1-nano, gpt-5-nano,
    // the largest multiplier); tile models bill at most 85 + 170 x 8 = 1,445.
    ("openai", "", 3_780),
    // Anthropic: about width x height / 750, images beyond 1.15 megapixels (1568 px long edge)
    // are scaled down first: at most about 1,600.
    ("anthropic", "", 1_600),
    // Gemini 2.x: 258 per 768 x 768 tile, images up to 3072 x 3072 (16 tiles); Gemini 3's
    // media_resolution_high is 1,120 per image.
    ("google", "", 258 * 16),
    // Pixtral: 16 px patches of an image up to 1024 x 1024, plus one break token per row.
    ("mistral", "", 64 * 64 + 64),
];

/// For creators the table does not know (open-weight models served anywhere): Qwen2-VL's
/// default `max_pixels` (12,845,056) at one token per 28 x 28 px, the largest of the common
/// open vision models (Llama 4: 17 tiles of 144; Gemma 3: 256 per crop).
const IMAGE_TOKENS_OTHER: u64 = 12_845_056 / (28 * 28);

/// What a request holds beyond plain bytes, counted from its parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PromptBound {
    /// The request body's length: every byte-level BPE or byte-fallback token covers at least
    /// one UTF-8 byte of text, and JSON framing and escaping only add bytes.
    pub body_bytes: u64,
    pub images: u64,
    /// Files, documents and media given by reference (URL or id), not inline.
    pub by_reference: u64,
    pub tools: bool,
}

impl PromptBound {
    /// The bound for an OpenAI chat request: `image_url` parts are images; `input_audio`
    /// carries its data inline (bounded by bytes); any other non-text part is by reference.
    pub(crate) fn of_chat(body_bytes: usize, req: &ChatRequest<'_>) -> Self {
        let mut b = PromptBound {
            body_bytes: body_bytes as u64,
            tools: req.has_tools() || req.raw().get("functions").is_some(),
            ..PromptBound::default()
        };
        for m in &req.messages {
            let Some(Content::Parts(parts)) = &m.content else {
                continue;
            };
            for p in parts {
                match p.kind.as_ref() {
                    "text" | "refusal" | "input_audio" => {}
                    "image_url" | "image" => b.images += 1,
                    _ => b.by_reference += 1,
                }
            }
        }
        b
    }

    /// The bound for a canonical (Anthropic-dialect) request: its image blocks, tool results'
    /// included; documents and files by id are refused at ingress, so there are none.
    pub(crate) fn of_canonical(body_bytes: usize, req: &canonical::ChatRequest) -> Self {
        fn images(blocks: &[Block]) -> u64 {
            blocks
                .iter()
                .map(|b| match b {
                    Block::Image { .. } => 1,
                    Block::ToolResult { content, .. } => images(content),
                    _ => 0,
                })
                .sum()
        }
        PromptBound {
            body_bytes: body_bytes as u64,
            images: images(&req.system)
                + req.messages.iter().map(|m| images(&m.content)).sum::<u64>(),
            by_reference: 0,
            tools: !req.tools.is_empty(),
        }
    }

    /// Only the body's bytes (embeddings: text, or token ids of at least one byte each).
    pub(crate) fn of_bytes(body_bytes: usize) -> Self {
        PromptBound {
            body_bytes: body_bytes as u64,
            ..PromptBound::default()
        }
    }

    /// Input tokens `model` can bill for this request, at most its context `window`.
    pub(crate) fn tokens(&self, model: &ModelEntry, window: Option<u64>) -> u64 {
        let window = window.unwrap_or(NO_WINDOW);
        let tools = if self.tools { TOOL_PROMPT } else { 0 };
        let bound = self
            .body_bytes
            .saturating_add(self.images.saturating_mul(image_tokens(model)))
            .saturating_add(self.by_reference.saturating_mul(window))
            .saturating_add(tools);
        bound.min(window)
    }
}

fn image_tokens(model: &ModelEntry) -> u64 {
    IMAGE_TOKENS
        .iter()
        .find(|(creator, prefix, _)| *creator == model.creator && model.id.starts_with(prefix))
        .map_or(IMAGE_TOKENS_OTHER, |(_, _, n)| *n)
}

/// The most any priced target of `route` can bill: its prompt bound and `output` tokens at its
/// dearest current rates. Unpriced targets cost nothing against budgets. A cascade may ask
/// every tier for one request, so its worst case is their sum: a hard budget stays hard.
pub(crate) fn worst_case_cost(
    route: &Route<TargetMeta>,
    bound: &PromptBound,
    output: u64,
) -> Money {
    let each = route.targets.iter().filter_map(|t| {
        let model = t.meta.pricing.as_deref()?;
        let prompt = bound.tokens(model, t.profile.context_window);
        Some(dearest(model, prompt, output))
    });
    if matches!(route.strategy, switchyard_router::Strategy::Cascade { .. }) {
        return each.sum();
    }
    each.max_by(|a, b| a.0.cmp(&b.0)).unwrap_or(Money::ZERO)
}

/// Each token at the dearest rate it could be billed at: a long-context tier, a cache write
/// (the 1-hour one is the dearest), reasoning priced apart from output.
fn dearest(model: &ModelEntry, prompt: u64, output: u64) -> Money {
    let p = model.current_price();
    let input = p
        .tiers
        .iter()
        .map(|t| t.input.0)
        .chain(p.cache_write.map(|c| c.0))
        .chain(p.cache_write_1h.map(|c| c.0))
        .fold(p.input.0, Decimal::max);
    let out = p
        .tiers
        .iter()
        .filter_map(|t| t.output.map(|o| o.0))
        .chain(p.reasoning.map(|r| r.0))
        .fold(p.output.0, Decimal::max);
    Money(
        (input * Decimal::from(prompt) + out * Decimal::from(output)) / Decimal::from(1_000_000u32),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(body: &str) -> PromptBound {
        let req = ChatRequest::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
        PromptBound::of_chat(body.len(), &req)
    }

    #[test]
    fn the_bound_is_never_below_the_prompt_byte_count_and_counts_images_files_and_tools() {
        let dashes = "-".repeat(8_000);
        let b = chat(&format!(
            r#"{{"model":"m","messages":[{{"role":"user","content":"{dashes}"}}]}}"#
        ));
        assert!(b.body_bytes > 8_000 && b.images == 0 && !b.tools);
        let b = chat(
            r#"{"model":"m","tools":[{"type":"function","function":{"name":"f"}}],"messages":[{"role":"user","content":[
                {"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"http://x/a.png"}},
                {"type":"input_audio","input_audio":{"data":"AA","format":"wav"}},
                {"type":"file","file":{"file_id":"file-1"}}]}]}"#,
        );
        assert_eq!((b.images, b.by_reference, b.tools), (1, 1, true));
    }

    #[test]
    fn allowances_follow_the_published_image_formulas_and_stop_at_the_window() {
        let entry = |creator: &str, id: &str| ModelEntry {
            creator: creator.into(),
            id: id.into(),
            ..any_entry()
        };
        let one_image = PromptBound {
            body_bytes: 100,
            images: 1,
            ..PromptBound::default()
        };
        let mini = entry("openai", "gpt-4o-mini");
        assert_eq!(one_image.tokens(&mini, Some(128_000)), 100 + 48_169);
        assert_eq!(
            one_image.tokens(&entry("anthropic", "claude-x"), None),
            1_700
        );
        assert_eq!(
            one_image.tokens(&entry("qwen", "qwen2.5-vl"), None),
            100 + 16_384
        );
        assert_eq!(
            one_image.tokens(&mini, Some(1_000)),
            1_000,
            "capped at the window"
        );
        let file = PromptBound {
            body_bytes: 100,
            by_reference: 1,
            ..PromptBound::default()
        };
        assert_eq!(file.tokens(&mini, Some(128_000)), 128_000);
    }

    fn any_entry() -> ModelEntry {
        switchyard_catalog::Catalog::bundled()
            .ok()
            .and_then(|c| c.models().first().cloned())
            .unwrap_or_else(|| panic!("the bundled catalog has models"))
    }
}
