//! The live traffic of `switchyard demo`: one request of the mix per index, each with the shape
//! of real traffic for its workload, and the lever each workload's route turns on:
//!
//! - support (exact and semantic response cache): a few frequent questions asked again and
//!   again, streamed and not, from OpenAI and Anthropic clients, some of them in other words
//!   (what the semantic cache serves), beside one-off questions that always miss;
//! - code review (Anthropic prompt caching): a long, stable review policy and tools ahead of a
//!   conversation of several turns, sent by an Anthropic client;
//! - classification (cascade): a JSON label from the cheap tier, escalated when it is invalid;
//! - tagging (lowest-cost routing): a short request the cheapest fitting target answers, priced
//!   against the route's first target;
//! - summarisation, extraction (shadow traffic), embeddings: as before, no lever; extraction
//!   repeats itself word for word (a job retrying), what "still on the table" prices.
//!
//! Must not know how the gateway serves any of it: it only writes request bodies.

use serde_json::{Value, json};

pub const TEAMS: &[&str] = &["payments", "growth", "platform", "support-ops"];
const TOPICS: &[&str] = &[
    "a late delivery",
    "a double charge",
    "password reset",
    "a damaged item",
    "an invoice copy",
    "changing plans",
];
/// The questions a support desk hears all day, word for word: what the exact cache serves.
const FAQ: &[&str] = &[
    "How do I reset my password?",
    "Where can I download a copy of my invoice?",
    "How long does a refund take to reach my card?",
    "Can I change my plan in the middle of a billing cycle?",
    "What do I do if my parcel arrives damaged?",
];
/// The same questions in other words, two each (in `FAQ`'s order): what the semantic cache
/// serves once the question itself has been answered.
const REWORDED: &[[&str; 2]] = &[
    [
        "Hi, how do I reset my password?",
        "How do I reset my password, please?",
    ],
    [
        "Hello, where can I download a copy of my invoice?",
        "Where can I download a copy of my invoice, please?",
    ],
    [
        "How long does a refund usually take to reach my card?",
        "Hi, how long does a refund take to reach my card?",
    ],
    [
        "Can I change my plan in the middle of a billing cycle, please?",
        "Hi, can I change my plan in the middle of a billing cycle?",
    ],
    [
        "Hi, what do I do if my parcel arrives damaged?",
        "What do I do if my parcel arrives damaged, please?",
    ],
];

/// A path and a body.
pub type Request = (&'static str, Value);

/// The traffic mix: request `i`.
pub fn request(i: usize) -> Request {
    match i % 20 {
        0..=6 => support(i),
        7..=9 => code_review(i),
        10..=13 => summarize(i),
        14..=16 => classify(i),
        17..=18 => extract(i),
        19 if i % 40 == 39 => tag(i),
        _ => (
            "/v1/embeddings",
            json!({"model": "embed", "input": [long_text(i, 3), long_text(i + 1, 2), TOPICS[i % TOPICS.len()], long_text(i + 2, 4)]}),
        ),
    }
}

pub fn long_text(seed: usize, sentences: usize) -> String {
    let parts = [
        "The quarterly review found that onboarding time fell after the new checklist shipped.",
        "Customers on the enterprise plan asked for clearer invoices and faster refunds.",
        "The migration moved three services to the new cluster without downtime.",
        "Latency at the 99th percentile rose during the holiday peak and then recovered.",
        "Support volume doubled in the week of the pricing change.",
        "The team agreed to retire the legacy export job by the end of the quarter.",
    ];
    (0..sentences)
        .map(|k| parts[(seed + k * 7) % parts.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// An article to tag: a short answer from whichever target the route's `lowest-cost` picks.
fn tag(i: usize) -> Request {
    (
        "/v1/chat/completions",
        json!({"model": "tag", "max_tokens": 30, "messages": [
            {"role": "user", "content": format!("Suggest three topic tags, comma-separated, for note {}: {}", i / 40, long_text(i, 2))}
        ]}),
    )
}

const SUPPORT_SYSTEM: &str = "You are a friendly support agent for an online store. Be concise.";

/// Three in four are a frequent question (temperature 0: cacheable), one in four names an
/// order and is new each time; of the frequent ones, one in four is put in other words. One in
/// five comes from an Anthropic client, one in three streams.
fn support(i: usize) -> Request {
    let faq = (i / 20 + i) % FAQ.len();
    let question = if i % 4 == 3 {
        format!(
            "Hi, I need help with {} on order #{}.",
            TOPICS[i % TOPICS.len()],
            10_000 + i
        )
    } else if (i / 20) % 4 == 3 {
        REWORDED[faq][(i / 80) % 2].to_string()
    } else {
        FAQ[faq].to_string()
    };
    let stream = i % 3 == 0;
    if i % 5 == 2 {
        let mut body = json!({
            "model": "support-chat", "max_tokens": 200, "temperature": 0,
            "system": SUPPORT_SYSTEM,
            "messages": [{"role": "user", "content": question}]
        });
        if stream {
            body["stream"] = json!(true);
        }
        return ("/v1/messages", body);
    }
    let mut body = json!({
        "model": "support-chat", "max_tokens": 200, "temperature": 0,
        "messages": [
            {"role": "system", "content": SUPPORT_SYSTEM},
            {"role": "user", "content": question}
        ]
    });
    if stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
    }
    ("/v1/chat/completions", body)
}

/// The review policy every code-review request starts with (about 1,700 tokens): the stable
/// prefix Anthropic's prompt cache keeps.
fn review_policy() -> String {
    let rules = [
        "Check every changed line for integer overflow, off-by-one errors and unchecked indexing.",
        "Money is decimal: flag any floating-point arithmetic on prices, totals or taxes.",
        "Errors must say how to fix them; flag messages that only say what went wrong.",
        "Flag secrets, tokens or personal data written to logs, errors or records.",
        "New public functions need a doc comment stating what they own and their invariants.",
        "Prefer small functions: flag any function over fifty lines or with more than four parameters.",
        "Every behaviour change needs a test named after the behaviour it pins.",
        "Report each finding with the file, the line, the severity and a concrete fix.",
    ];
    (0..32)
        .map(|k| format!("Rule {}: {}", k + 1, rules[k % rules.len()]))
        .collect::<Vec<_>>()
        .join("\n")
        .repeat(2)
}

fn diff(i: usize, lines: usize) -> String {
    format!(
        "diff --git a/src/billing.rs b/src/billing.rs\n{}",
        format!("+    let total = items.iter().map(|i| i.price * i.qty).sum::<u64>(); // {i}\n")
            .repeat(lines)
    )
}

/// An Anthropic client reviewing a change over one to three turns: policy and tools first
/// (identical on every request), then the conversation so far.
fn code_review(i: usize) -> Request {
    let turns = 1 + (i / 20) % 3;
    let mut messages = Vec::new();
    for t in 0..turns {
        messages.push(json!({"role": "user", "content": diff(i + t, 8 + (i + t) % 20)}));
        if t + 1 < turns {
            messages.push(json!({"role": "assistant", "content": "Two findings: the sum can overflow u64, and the price is not decimal. Send the next part."}));
        }
    }
    (
        "/v1/messages",
        json!({
            "model": "code-review", "max_tokens": 300,
            "system": review_policy(),
            "tools": [{"name": "report_finding", "description": "Report one review finding.",
                "input_schema": {"type": "object", "properties": {
                    "file": {"type": "string"}, "line": {"type": "integer"},
                    "severity": {"enum": ["bug", "risk", "style"]}, "fix": {"type": "string"}},
                    "required": ["file", "line", "severity", "fix"]}}],
            "messages": messages
        }),
    )
}

fn summarize(i: usize) -> Request {
    (
        "/v1/chat/completions",
        json!({
            "model": "summarize",
            "stream": i % 2 == 0,
            "messages": [
                {"role": "system", "content": "Summarise the document in three bullet points."},
                {"role": "user", "content": long_text(i, 20 + i % 80)}
            ],
            "max_tokens": 180
        }),
    )
}

/// A ticket to label as JSON; the cascade's cheap tier sometimes cuts the JSON short.
fn classify(i: usize) -> Request {
    let topic = TOPICS[i % TOPICS.len()];
    (
        "/v1/chat/completions",
        json!({
            "model": "classify",
            "messages": [
                {"role": "system", "content": "Classify the support ticket as billing, shipping, account or other. Answer with JSON: {\"label\": ...}. Billing covers charges, refunds, invoices and plans; shipping covers deliveries, parcels and returns; account covers sign-in, passwords and profile changes; anything else is other."},
                {"role": "user", "content": format!("Ticket #{}: I have a question about {topic}. {}", 30_000 + i, long_text(i, 2 + i % 4))}
            ],
            "response_format": {"type": "json_schema", "json_schema": {"name": "label", "schema": {"type": "object",
                "properties": {"label": {"enum": ["billing", "shipping", "account", "other"]}}, "required": ["label"]}}},
            "max_tokens": 20,
            "temperature": 0
        }),
    )
}

/// An order mail to extract fields from. The job re-sends mails it already extracted (retries
/// after client timeouts): ten distinct mails, each sent again word for word every 100
/// requests, on a route without a cache, which "still on the table" prices as duplicates.
fn extract(i: usize) -> Request {
    let mail = (i / 20) % 5 * 20 + i % 20;
    let topic = TOPICS[mail % TOPICS.len()];
    let order = 20_000 + mail;
    (
        "/v1/chat/completions",
        json!({
            "model": "extract",
            "messages": [{"role": "user", "content": format!("Extract the customer name and order id as JSON: 'Jane Doe wrote about order {order} and {topic}.'")}],
            "response_format": {"type": "json_object"},
            "max_tokens": 60
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_repeats_frequent_questions_from_both_dialects_and_streams_some() {
        let support: Vec<Request> = (0..600).filter(|i| i % 20 <= 6).map(request).collect();
        let bodies: Vec<String> = support.iter().map(|(_, b)| b.to_string()).collect();
        let distinct: std::collections::HashSet<&String> = bodies.iter().collect();
        assert!(
            distinct.len() * 2 < bodies.len(),
            "{} of {}",
            distinct.len(),
            bodies.len()
        );
        assert!(support.iter().any(|(p, _)| *p == "/v1/messages"));
        // Some frequent questions come in other words: what the semantic cache serves.
        let reworded = REWORDED
            .iter()
            .flatten()
            .filter(|q| bodies.iter().any(|b| b.contains(*q)));
        assert_eq!(reworded.count(), REWORDED.len() * 2);
        assert!(support.iter().any(|(_, b)| b["stream"] == true));
    }

    #[test]
    fn code_review_policy_is_long_enough_for_anthropic_to_cache() {
        // Anthropic's minimum for Sonnet is 1,024 tokens; the gateway estimates 4 bytes a token.
        assert!(review_policy().len() / 4 > 1200);
        let (_, b) = code_review(47);
        assert!(b["messages"].as_array().is_some_and(|m| m.len() >= 3));
    }
}
