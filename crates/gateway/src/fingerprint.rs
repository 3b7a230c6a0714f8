//! The request fingerprint the ledger keeps (`Record::fingerprint`): XXH3-128 over the bytes
//! that determine the answer, so "still on the table" can find exact duplicates of an earlier
//! request on the same route that no cache answered.
//!
//! An OpenAI chat hashes its top-level members as sent (name and raw value, in order), leaving
//! out those that cannot change the answer: `model` (the route, compared apart), `user`,
//! `metadata`, `stream`, `stream_options`, `store`, `service_tier`, `prompt_cache_key` and
//! `safety_identifier`. Other endpoints hash the body as sent. Nothing is normalised (key
//! order, whitespace): the cache key does that for the cache; this only has to recognise a
//! client repeating itself, cheaply, on every request. Must never know the cache's key.

use switchyard_ledger::Fingerprint;
use switchyard_protocol::openai::ChatRequest;

/// Members of an OpenAI chat request that do not change its answer.
const IGNORED: &[&str] = &[
    "model",
    "user",
    "metadata",
    "stream",
    "stream_options",
    "store",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
];

/// The fingerprint of a whole body.
pub(crate) fn of_body(body: &[u8]) -> Fingerprint {
    Fingerprint(xxhash_rust::xxh3::xxh3_128(body))
}

/// The fingerprint of an OpenAI chat request: its answer-determining members.
pub(crate) fn of_chat(req: &ChatRequest<'_>) -> Fingerprint {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for (name, value) in req.raw().iter() {
        if IGNORED.contains(&name) {
            continue;
        }
        h.update(name.as_bytes());
        h.update(&[0]);
        h.update(value.get().as_bytes());
        h.update(&[0]);
    }
    Fingerprint(h.digest128())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(body: &str) -> Fingerprint {
        of_chat(&ChatRequest::parse(body.as_bytes()).unwrap())
    }

    #[test]
    fn a_chat_fingerprint_ignores_members_that_do_not_change_the_answer() {
        let base = chat(r#"{"model":"a","messages":[{"role":"user","content":"hi"}]}"#);
        let same = chat(
            r#"{"model":"b","messages":[{"role":"user","content":"hi"}],"stream":true,"user":"u1","metadata":{"k":"v"}}"#,
        );
        assert_eq!(base, same);
        let other = chat(r#"{"model":"a","messages":[{"role":"user","content":"ho"}]}"#);
        assert_ne!(base, other);
        let hotter =
            chat(r#"{"model":"a","messages":[{"role":"user","content":"hi"}],"temperature":1}"#);
        assert_ne!(base, hotter, "sampling parameters change the answer");
    }

    #[test]
    fn a_member_name_and_its_value_cannot_trade_bytes() {
        let a = chat(r#"{"model":"a","messages":[{"role":"user","content":"x"}],"seed":12}"#);
        let b = chat(r#"{"model":"a","messages":[{"role":"user","content":"x"}],"seed":1}"#);
        assert_ne!(a, b);
        assert_ne!(of_body(b"{}"), of_body(b"{ }"));
    }
}
