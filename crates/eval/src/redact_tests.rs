use super::*;
use serde_json::json;

fn redactor() -> Redactor {
    Redactor::new(&[]).unwrap()
}

/// Sensitive values, each with the mask it must become.
const POSITIVE: &[(&str, &str)] = &[
    ("jane.doe+work@example.co.uk", "[EMAIL]"),
    ("a_b@sub.domain-x.io", "[EMAIL]"),
    ("+1 (415) 555-2671", "[PHONE]"),
    ("+14155552671", "[PHONE]"),
    ("+44 20 7946 0958", "[PHONE]"),
    ("+33 1 23 45 67 89", "[PHONE]"),
    ("+49-30-901820", "[PHONE]"),
    ("(415) 555-2671", "[PHONE]"),
    ("415-555-2671", "[PHONE]"),
    ("415.555.2671", "[PHONE]"),
    ("1-800-555-0199", "[PHONE]"),
    ("+1-800-555-0199", "[PHONE]"),
    ("4111 1111 1111 1111", "[CARD]"),
    ("4111-1111-1111-1111", "[CARD]"),
    ("5500005555555559", "[CARD]"),
    ("378282246310005", "[CARD]"),
    ("6011 0009 9013 9424", "[CARD]"),
    ("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "[SECRET]"),
    (
        "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-AAAA",
        "[SECRET]",
    ),
    ("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "[SECRET]"),
    ("ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "[SECRET]"),
    (
        "github_pat_11ABCDEFG0123456789_abcdefghijKLMNOP",
        "[SECRET]",
    ),
    (
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp",
        "[SECRET]",
    ),
    ("xoxp-1234-5678-90ab-cdef12345678", "[SECRET]"),
    ("AKIAIOSFODNN7EXAMPLE", "[SECRET]"),
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "[SECRET]",
    ),
];

/// Secrets recognised by the word before them; the word stays, the value goes.
const KEYWORD: &[(&str, &str)] = &[
    (
        "api_key=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
        "api_key=[SECRET]",
    ),
    (
        "Authorization: Bearer dGhpc2lzYXZlcnlsb25nc2VjcmV0dG9rZW4xMjM0NTY3OA==",
        "Authorization: Bearer [SECRET]",
    ),
    (
        r#""secret": "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5""#,
        r#""secret": "[SECRET]""#,
    ),
    (
        "my token is 0123456789abcdef0123456789abcdef",
        "my token is [SECRET]",
    ),
];

/// Ordinary text that must come through unchanged.
const NEGATIVE: &[&str] = &[
    "Order #A-20231115-0042 shipped on 2024-01-15.",
    "Order number 4111111111111112 (fails Luhn).",
    "Invoice 1234 5678 9012 3456 is due.",
    "Upgrade from v1.2.3 to 10.4.12-beta.",
    "It costs $1,234.56 or +12.50 USD; 15% off.",
    "Meeting at 10:30-11:45 on 12/31/2024.",
    "Request id 123e4567-e89b-12d3-a456-426614174000 failed.",
    "Call me at extension 1234.",
    "The server is at 192.168.100.200:8080.",
    "Risk-assessment-framework-document for the task-force-committee.",
    "Use a key that is long enough, like a passphrase.",
    "The keyboard token count was 1234.",
    "Email support via the contact form, not @handles.",
    "Population 8000000000 and ISBN 978-3-16-148410-0.",
];

fn alphanumerics(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

#[test]
fn every_sensitive_value_is_masked_whole() {
    let r = redactor();
    for (secret, mask) in POSITIVE {
        let out = r.redact(&format!("before {secret} after"));
        assert_eq!(out, format!("before {mask} after"), "{secret}");
        let core = alphanumerics(secret);
        assert!(
            !alphanumerics(&out).contains(&core),
            "{secret} survived in {out}"
        );
    }
}

#[test]
fn no_digit_group_of_a_masked_number_survives() {
    let r = redactor();
    for (secret, _) in POSITIVE.iter().filter(|(_, m)| *m != "[SECRET]") {
        let out = r.redact(&format!("x {secret} y"));
        assert!(
            !out.chars().any(|c| c.is_ascii_digit()),
            "{secret} -> {out}"
        );
    }
}

#[test]
fn secrets_after_key_words_are_masked_and_the_word_kept() {
    let r = redactor();
    for (input, want) in KEYWORD {
        assert_eq!(r.redact(input), *want);
    }
}

#[test]
fn ordinary_text_is_unchanged() {
    let r = redactor();
    for text in NEGATIVE {
        assert_eq!(r.redact(text), *text);
    }
}

#[test]
fn custom_patterns_mask_as_redacted_and_bad_ones_name_their_index() {
    let r = Redactor::new(&["EMP-\\d{6}".to_owned()]).unwrap();
    assert_eq!(
        r.redact("employee EMP-123456 left"),
        "employee [REDACTED] left"
    );
    let e = Redactor::new(&["ok".to_owned(), "(".to_owned()]).unwrap_err();
    assert_eq!(e.index, 1);
    assert!(e.to_string().contains("pattern 1"));
}

#[test]
fn json_strings_are_masked_everywhere_and_keys_are_untouched() {
    let r = redactor();
    let mut doc = json!({
        "messages": [
            {"role": "user", "content": "mail me at bob@example.com"},
            {"role": "user", "content": [{"type": "text", "text": "card 4111 1111 1111 1111"}]}
        ],
        "bob@example.com": 415,
        "n": 4_111_111_111_111_111_u64
    });
    r.redact_json(&mut doc);
    assert_eq!(doc["messages"][0]["content"], "mail me at [EMAIL]");
    assert_eq!(doc["messages"][1]["content"][0]["text"], "card [CARD]");
    assert!(doc.get("bob@example.com").is_some());
    assert_eq!(doc["n"], json!(4_111_111_111_111_111_u64));
}

#[test]
fn luhn_check_accepts_real_test_numbers_only() {
    assert!(is_card("4111111111111111"));
    assert!(is_card("4012 8888 8888 1881"));
    assert!(!is_card("4111111111111112"));
    assert!(!is_card("411111111111"));
}
