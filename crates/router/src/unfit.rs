//! Why no target of a route could take a request, in words a client can act on: the prompt
//! and the requested output limit are named apart (a window is exceeded by their sum, and the
//! fix differs: lower `max_tokens`, or shorten the prompt), with the window they exceed.
//!
//! Knows only the [`Skipped`] list of one routing attempt; the dialect of the error body and
//! the route's name in the headline are the gateway's.

use crate::Skipped;
use crate::plan::{Skip, thousands};

/// "the prompt is about 93,755 tokens and max_tokens asks for 64,000 more: 157,755 in all"
/// (or only the prompt's size when the client set no `max_tokens`).
pub(crate) fn demand(prompt: u64, max_output: Option<u64>) -> String {
    match max_output {
        Some(out) if out > 0 => format!(
            "the prompt is about {} tokens and max_tokens asks for {} more: {} in all",
            thousands(prompt),
            thousands(out),
            thousands(prompt + out)
        ),
        _ => format!("the prompt is about {} tokens", thousands(prompt)),
    }
}

/// Every skipped target's reason, joined. When every target was skipped for one and the same
/// context window, that is said once ("over the 128,000-token context window of every target
/// on the route") with the fix; otherwise each target's reason is listed.
pub fn explain(skipped: &[Skipped]) -> String {
    let windows: Vec<(u64, Option<u64>, u64)> = skipped
        .iter()
        .filter_map(|s| match s.reason {
            Skip::ContextWindow {
                prompt,
                max_output,
                window,
            } => Some((prompt, max_output, window)),
            _ => None,
        })
        .collect();
    match windows.first() {
        Some(&(prompt, max_output, window))
            if windows.len() == skipped.len() && windows.iter().all(|w| w.2 == window) =>
        {
            let names: Vec<String> = skipped
                .iter()
                .map(|s| format!("{}/{}", s.provider, s.model))
                .collect();
            format!(
                "{}, over the {}-token context window of every target on the route ({}). {}",
                demand(prompt, max_output),
                thousands(window),
                names.join(", "),
                fix(prompt, max_output, window)
            )
        }
        _ => skipped
            .iter()
            .map(|s| format!("{}/{}: {}", s.provider, s.model, s.reason))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// How to make the request fit one window.
fn fix(prompt: u64, max_output: Option<u64>, window: u64) -> String {
    match max_output {
        Some(out) if out > 0 && prompt < window => format!(
            "Lower max_tokens to at most {}, shorten the prompt, or use a route with a larger context window",
            thousands(window - prompt)
        ),
        Some(out) if out > 0 => format!(
            "The prompt alone exceeds the window: shorten it so that it and max_tokens together stay within {} tokens, or use a route with a larger context window",
            thousands(window)
        ),
        _ => format!(
            "Shorten the prompt to under {} tokens, or use a route with a larger context window",
            thousands(window)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipped(model: &str, reason: Skip) -> Skipped {
        Skipped {
            target: 0,
            provider: "sim".into(),
            model: model.into(),
            reason,
        }
    }

    fn too_long(prompt: u64, max_output: Option<u64>, window: u64) -> Skip {
        Skip::ContextWindow {
            prompt,
            max_output,
            window,
        }
    }

    #[test]
    fn the_prompt_and_max_tokens_are_named_apart_with_the_window_they_exceed() {
        let s = [
            skipped("a", too_long(93_755, Some(64_000), 128_000)),
            skipped("b", too_long(93_755, Some(64_000), 128_000)),
        ];
        assert_eq!(
            explain(&s),
            "the prompt is about 93,755 tokens and max_tokens asks for 64,000 more: 157,755 in all, \
             over the 128,000-token context window of every target on the route (sim/a, sim/b). \
             Lower max_tokens to at most 34,245, shorten the prompt, or use a route with a larger context window"
        );
    }

    #[test]
    fn a_prompt_alone_too_long_says_so_without_a_max_tokens_part() {
        let s = [skipped("a", too_long(5_210, None, 2_000))];
        assert_eq!(
            explain(&s),
            "the prompt is about 5,210 tokens, over the 2,000-token context window of every target \
             on the route (sim/a). Shorten the prompt to under 2,000 tokens, or use a route with a larger context window"
        );
    }

    #[test]
    fn a_prompt_over_the_window_with_max_tokens_is_told_to_shrink_both_to_fit() {
        let s = [skipped("a", too_long(5_210, Some(50), 2_000))];
        let text = explain(&s);
        assert!(
            text.starts_with(
                "the prompt is about 5,210 tokens and max_tokens asks for 50 more: 5,260 in all"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("The prompt alone exceeds the window: shorten it so that it and max_tokens together stay within 2,000 tokens, or use a route with a larger context window"),
            "{text}"
        );
    }

    #[test]
    fn targets_with_different_windows_are_each_explained() {
        let s = [
            skipped("a", too_long(9_000, Some(500), 8_192)),
            skipped("b", Skip::Capability("tools")),
        ];
        assert_eq!(
            explain(&s),
            "sim/a: the prompt is about 9,000 tokens and max_tokens asks for 500 more: 9,500 in all, \
             over its 8,192-token context window; sim/b: the model does not support tools"
        );
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(157_755), "157,755");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }
}
