//! The exact cache's key: BLAKE3 over what determines an answer, in a canonical form.
//!
//! What is hashed: the route's resolved target list (provider + model, in order, digested once
//! at assembly), the scope's id, and the request in canonical types (so an OpenAI and an
//! Anthropic client asking the same thing share an entry): system blocks, turns, tools,
//! tool_choice, parallel tool calls, response_format, temperature, top_p, stop, seed and max
//! tokens and any member the canonical form carries verbatim (`extra`: `top_k`, `thinking`, …).
//! Defaults are made explicit (temperature and top_p 1, tool_choice `auto` with tools and
//! `none` without, parallel tool calls on), stop sequences are a set, and every JSON value
//! (schemas, tool inputs, extras) is hashed with sorted keys and no whitespace. Not hashed:
//! `model` (the route), `stream`, `stream_options`, `user`/`metadata`, and prompt-cache
//! breakpoints, none of which changes the answer.
//!
//! The encoding is a tagged, length-prefixed byte stream fed to the digest as it is walked:
//! small fields gather in a 1 KiB buffer (a digest update per field cost more than the
//! hashing itself), a long text goes to the digest straight from the request, so no canonical
//! copy of the prompt is built. A JSON schema (a tool's parameters, `response_format`'s
//! schema) enters as the digest of its own canonical encoding, remembered by its text as sent
//! in a [`SchemaMemo`]: clients send the same tools with every request, and parsing each
//! schema into a `Value` to sort its keys was most of a tool-heavy request's key. Must never
//! know dialects' wire formats or the store.
//!
//! Why a cryptographic digest and not XXH3 (which the ledger's fingerprints use): with
//! `scope = "global"` one entry serves every team, and in a fleet the Redis store shares it
//! across gateways and restarts. XXH3 is built against accidental collisions only; a caller
//! who can construct a colliding request could plant an answer for another caller's
//! question. A per-process secret seed would not hold across a fleet, and a configured one
//! would be a secret that, once leaked, reopens the hole. BLAKE3 keeps the 256-bit collision
//! resistance SHA-256 gave (`switchyard-exact-v1` keys were SHA-256) at a fraction of the
//! cost: it runs SIMD (SSE4.1/AVX2 picked at run time, the crate's `pure` Rust build, no C
//! compiler) over 1 KiB chunks, where `ring`'s SHA-256 runs one block at a time and, without
//! SHA-NI (valgrind hides it, so do older CPUs), at ~36 instructions a byte
//! (docs/benchmarks.md has both). Changing the digest changed every key: entries written by
//! an older version are misses, never wrong answers.

use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::Mutex;
use switchyard_cache::Key;
use switchyard_protocol::canonical::{
    Block, ChatRequest, ImageSource, ResponseFormat, Role, ToolChoice, Turn,
};

/// What the key covers beyond the canonical request.
pub(crate) struct KeyParts<'a> {
    /// The digest of the route's target list.
    pub targets: &'a [u8; 32],
    /// `global`, or the team or key id the entry is confined to.
    pub scope: &'a str,
    pub request: &'a ChatRequest,
    /// The OpenAI `seed` as written (canonical requests do not carry it).
    pub seed: Option<&'a RawValue>,
    /// Schema digests already computed (the shared store handle's).
    pub schemas: &'a SchemaMemo,
}

/// The digest of a route's targets, in order (computed once per route at assembly).
pub(crate) fn targets_digest<'a>(targets: impl Iterator<Item = (&'a str, &'a str)>) -> [u8; 32] {
    let mut h = Hasher::new(None);
    h.tag(b"targets");
    for (provider, model) in targets {
        h.str(provider);
        h.str(model);
    }
    h.finish().0
}

/// The entry's key.
pub(crate) fn key(p: &KeyParts<'_>) -> Key {
    key_over(p, &p.request.messages)
}

/// The key of the request with `messages` in place of its own (the semantic cache's context
/// hash: every turn but the last), without copying the request.
pub(crate) fn key_over(p: &KeyParts<'_>, messages: &[Turn]) -> Key {
    let mut h = Hasher::new(Some(p.schemas));
    h.tag(b"switchyard-exact-v2");
    h.put(p.targets);
    h.str(p.scope);
    let r = p.request;
    h.tag(b"system");
    h.blocks(&r.system);
    h.tag(b"messages");
    h.len(messages.len());
    for t in messages {
        h.tag(match t.role {
            Role::User => b"u",
            Role::Assistant => b"a",
            Role::Tool => b"t",
        });
        h.blocks(&t.content);
    }
    h.tag(b"tools");
    h.len(r.tools.len());
    for t in &r.tools {
        h.str(&t.name);
        h.opt_str(t.description.as_deref());
        h.schema(t.parameters.as_deref());
    }
    h.tool_choice(r);
    h.tag(b"parallel");
    h.put(&[u8::from(r.parallel_tool_calls.unwrap_or(true))]);
    h.tag(b"max_tokens");
    h.put(&r.max_tokens.map_or(u64::MAX, |n| n).to_le_bytes());
    h.f64(r.temperature.unwrap_or(1.0));
    h.f64(r.top_p.unwrap_or(1.0));
    h.stop(&r.stop);
    h.response_format(&r.response_format);
    h.tag(b"seed");
    h.opt_json(p.seed);
    h.extra(&r.extra);
    h.finish()
}

/// The canonical encoding, fed to the digest as it is produced; [`Hasher::finish`] gives it.
struct Hasher<'m> {
    digest: blake3::Hasher,
    /// Small fields gathered for one digest update.
    buf: Vec<u8>,
    /// Where schema digests are remembered (`None`: computed each time).
    schemas: Option<&'m SchemaMemo>,
}

/// The gathering buffer's size; a field at least this long bypasses it.
const BUF: usize = 1024;

impl<'m> Hasher<'m> {
    fn new(schemas: Option<&'m SchemaMemo>) -> Self {
        Hasher {
            digest: blake3::Hasher::new(),
            buf: Vec::with_capacity(BUF),
            schemas,
        }
    }

    fn finish(mut self) -> Key {
        self.digest.update(&self.buf);
        Key(*self.digest.finalize().as_bytes())
    }

    /// The next bytes of the encoding: gathered when short, digested in place when long
    /// (the same byte stream either way, so the key does not depend on the buffering).
    fn put(&mut self, b: &[u8]) {
        if self.buf.len() + b.len() <= BUF {
            self.buf.extend_from_slice(b);
            return;
        }
        self.digest.update(&self.buf);
        self.buf.clear();
        if b.len() >= BUF {
            self.digest.update(b);
        } else {
            self.buf.extend_from_slice(b);
        }
    }

    fn tag(&mut self, t: &[u8]) {
        self.put(&[0xff, t.len() as u8]);
        self.put(t);
    }

    fn len(&mut self, n: usize) {
        self.put(&(n as u64).to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.put(s.as_bytes());
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.put(&[0]),
            Some(s) => {
                self.put(&[1]);
                self.str(s);
            }
        }
    }

    /// -0 and 0 are the same temperature.
    fn f64(&mut self, x: f64) {
        let x = if x == 0.0 { 0.0 } else { x };
        self.put(&x.to_bits().to_le_bytes());
    }

    fn blocks(&mut self, blocks: &[Block]) {
        self.len(blocks.len());
        for b in blocks {
            self.block(b);
        }
    }

    fn block(&mut self, b: &Block) {
        match b {
            Block::Text { text, .. } => {
                self.tag(b"text");
                self.str(text);
            }
            Block::Image { source, .. } => {
                self.tag(b"image");
                match source {
                    ImageSource::Url(u) => self.str(u),
                    ImageSource::Base64 { media_type, data } => {
                        self.str(media_type);
                        self.str(data);
                    }
                }
            }
            Block::ToolUse {
                id, name, input, ..
            } => {
                self.tag(b"tool_use");
                self.str(id);
                self.str(name);
                self.opt_json(Some(input));
            }
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
                ..
            } => {
                self.tag(b"tool_result");
                self.str(tool_use_id);
                self.put(&[u8::from(*is_error)]);
                self.blocks(content);
            }
            Block::Thinking { text, signature } => {
                self.tag(b"thinking");
                self.str(text);
                self.opt_str(signature.as_deref());
            }
            Block::RedactedThinking { data } => {
                self.tag(b"redacted");
                self.str(data);
            }
        }
    }

    fn tool_choice(&mut self, r: &ChatRequest) {
        self.tag(b"tool_choice");
        let explicit = match &r.tool_choice {
            Some(c) => c.clone(),
            None if r.tools.is_empty() => ToolChoice::None,
            None => ToolChoice::Auto,
        };
        match explicit {
            ToolChoice::Auto => self.tag(b"auto"),
            ToolChoice::Any => self.tag(b"any"),
            ToolChoice::None => self.tag(b"none"),
            ToolChoice::Tool(name) => {
                self.tag(b"tool");
                self.str(&name);
            }
        }
    }

    fn stop(&mut self, stop: &[String]) {
        self.tag(b"stop");
        let mut set: Vec<&str> = stop.iter().map(String::as_str).collect();
        set.sort_unstable();
        set.dedup();
        self.len(set.len());
        for s in set {
            self.str(s);
        }
    }

    fn response_format(&mut self, f: &ResponseFormat) {
        self.tag(b"format");
        match f {
            ResponseFormat::Text => self.tag(b"text"),
            ResponseFormat::JsonObject => self.tag(b"json_object"),
            ResponseFormat::JsonSchema { name, schema } => {
                self.tag(b"json_schema");
                self.str(name);
                self.schema(schema.as_deref());
            }
        }
    }

    fn extra(&mut self, extra: &[(String, Box<RawValue>)]) {
        self.tag(b"extra");
        let mut sorted: Vec<&(String, Box<RawValue>)> = extra.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        self.len(sorted.len());
        for (k, v) in sorted {
            self.str(k);
            self.opt_json(Some(v));
        }
    }

    /// A JSON schema: the digest of its canonical encoding ([`Hasher::opt_json`] alone),
    /// from the memo when this text was seen before. Always the digest, memo or not, so the
    /// key does not depend on what the memo holds.
    fn schema(&mut self, v: Option<&RawValue>) {
        let Some(v) = v else {
            self.put(&[0]);
            return;
        };
        let text = v.get();
        let digest = match self.schemas.and_then(|m| m.get(text)) {
            Some(d) => d,
            None => {
                let mut alone = Hasher::new(None);
                alone.opt_json(Some(v));
                let d = alone.finish().0;
                if let Some(m) = self.schemas {
                    m.insert(text, d);
                }
                d
            }
        };
        self.tag(b"schema");
        self.put(&digest);
    }

    /// A JSON value with sorted keys and no whitespace. Text that is not JSON (it was
    /// validated on the way in, so never in practice) is hashed as written.
    fn opt_json(&mut self, v: Option<&RawValue>) {
        let Some(v) = v else {
            self.put(&[0]);
            return;
        };
        self.put(&[1]);
        match serde_json::from_str::<Value>(v.get()) {
            Ok(parsed) => self.value(&parsed),
            Err(_) => self.str(v.get()),
        }
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.tag(b"n"),
            Value::Bool(b) => self.tag(if *b { b"T" } else { b"F" }),
            Value::Number(n) => {
                self.tag(b"#");
                self.str(&n.to_string());
            }
            Value::String(s) => {
                self.tag(b"s");
                self.str(s);
            }
            Value::Array(items) => {
                self.tag(b"[");
                self.len(items.len());
                for i in items {
                    self.value(i);
                }
            }
            Value::Object(map) => {
                self.tag(b"{");
                self.len(map.len());
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_unstable();
                for k in keys {
                    self.str(k);
                    self.value(&map[k]);
                }
            }
        }
    }
}

/// Digests of JSON schemas by their text as sent, shared by every request of the process.
///
/// Bounded: at [`SchemaMemo::MAX_ENTRIES`] entries or [`SchemaMemo::MAX_BYTES`] bytes of
/// text it is emptied and refills with what is sent next (a working set of tools that fits
/// is never evicted; one that does not costs what no memo cost). Looked up by an XXH3-128 of
/// the text with a per-process seed, then the whole text compared, so neither a hash
/// collision nor a crafted one can return another schema's digest.
pub(crate) struct SchemaMemo {
    seed: u64,
    map: Mutex<Memo>,
}

#[derive(Default)]
struct Memo {
    by_hash: HashMap<u128, (Box<str>, [u8; 32])>,
    bytes: usize,
}

impl Default for SchemaMemo {
    fn default() -> Self {
        use std::hash::BuildHasher;
        SchemaMemo {
            seed: std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64),
            map: Mutex::default(),
        }
    }
}

impl SchemaMemo {
    const MAX_ENTRIES: usize = 4096;
    const MAX_BYTES: usize = 4 << 20;

    fn hash(&self, text: &str) -> u128 {
        xxhash_rust::xxh3::xxh3_128_with_seed(text.as_bytes(), self.seed)
    }

    fn get(&self, text: &str) -> Option<[u8; 32]> {
        let h = self.hash(text);
        let map = self.map.lock().ok()?;
        match map.by_hash.get(&h) {
            Some((t, d)) if **t == *text => Some(*d),
            _ => None,
        }
    }

    fn insert(&self, text: &str, digest: [u8; 32]) {
        let h = self.hash(text);
        let Ok(mut map) = self.map.lock() else {
            return;
        };
        if map.by_hash.len() >= Self::MAX_ENTRIES || map.bytes + text.len() > Self::MAX_BYTES {
            map.by_hash.clear();
            map.bytes = 0;
        }
        if text.len() <= Self::MAX_BYTES {
            map.bytes += text.len();
            if let Some((old, _)) = map.by_hash.insert(h, (text.into(), digest)) {
                map.bytes -= old.len();
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.by_hash.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::openai;

    fn openai_key(body: &str, scope: &str) -> Key {
        let view = openai::ChatRequest::parse(body.as_bytes()).unwrap();
        let canonical = ChatRequest::try_from(&view).unwrap();
        let seed = view.raw().get("seed");
        key(&KeyParts {
            targets: &[7; 32],
            scope,
            request: &canonical,
            seed,
            schemas: &SchemaMemo::default(),
        })
    }

    fn anthropic_key(body: &str) -> Key {
        let canonical =
            switchyard_protocol::anthropic::ingress::parse_request(body.as_bytes()).unwrap();
        key(&KeyParts {
            targets: &[7; 32],
            scope: "k1",
            request: &canonical,
            seed: None,
            schemas: &SchemaMemo::default(),
        })
    }

    const BASE: &str = r#"{"model":"r","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":50,"temperature":0}"#;

    #[test]
    fn key_order_whitespace_stream_user_and_metadata_do_not_change_the_key() {
        let a = openai_key(BASE, "k1");
        let b = openai_key(
            r#"{ "temperature" : 0, "stream": true, "stream_options": {"include_usage": true}, "user": "u-9", "metadata": {"a": "b"},
                "max_tokens": 50, "messages": [{"content": "Be brief.", "role": "system"}, {"role": "user", "content": "Hi"}], "model": "other" }"#,
            "k1",
        );
        assert_eq!(a, b);
    }

    #[test]
    fn what_determines_the_answer_changes_the_key() {
        let a = openai_key(BASE, "k1");
        for changed in [
            BASE.replace("\"Hi\"", "\"Hi!\""),
            BASE.replace("\"temperature\":0", "\"temperature\":0.5"),
            BASE.replace("\"max_tokens\":50", "\"max_tokens\":51"),
            BASE.replace("}],", "}],\"seed\":3,"),
            BASE.replace("}],", "}],\"stop\":[\"x\"],"),
            BASE.replace("}],", "}],\"response_format\":{\"type\":\"json_object\"},"),
        ] {
            assert_ne!(openai_key(&changed, "k1"), a, "{changed}");
        }
        assert_ne!(openai_key(BASE, "k2"), a, "the scope is part of the key");
    }

    #[test]
    fn defaults_are_explicit_so_an_omitted_temperature_equals_one() {
        let omitted = BASE.replace(",\"temperature\":0", "");
        let one = BASE.replace("\"temperature\":0", "\"temperature\":1");
        assert_eq!(openai_key(&omitted, "k"), openai_key(&one, "k"));
    }

    #[test]
    fn tool_schemas_hash_with_sorted_keys() {
        let tool = |params: &str| {
            BASE.replace(
                "}],",
                &format!(r#"}}],"tools":[{{"type":"function","function":{{"name":"f","parameters":{params}}}}}],"#),
            )
        };
        let a = openai_key(
            &tool(r#"{"type":"object","properties":{"x":{"type":"string"}}}"#),
            "k",
        );
        let b = openai_key(
            &tool(r#"{"properties":{"x":{"type":"string"}},  "type":"object"}"#),
            "k",
        );
        assert_eq!(a, b);
    }

    #[test]
    fn the_streamed_digest_equals_one_digest_of_the_whole_encoding_however_it_is_split() {
        let long = "x".repeat(3 * BUF + 7);
        let pieces: [&[u8]; 5] = [b"ab", long.as_bytes(), &[1; 1000], &[2; 30], b"z"];
        let mut h = Hasher::new(None);
        let mut whole = Vec::new();
        for p in pieces {
            h.put(p);
            whole.extend_from_slice(p);
        }
        let one = blake3::hash(&whole);
        assert_eq!(&h.finish().0, one.as_bytes());
    }

    const TOOLS: &str = r#"{"model":"r","messages":[{"role":"user","content":"Hi"}],"temperature":0,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"x":{"type":"string"}}}}}]}"#;

    fn key_with(body: &str, memo: &SchemaMemo) -> Key {
        let view = openai::ChatRequest::parse(body.as_bytes()).unwrap();
        let canonical = ChatRequest::try_from(&view).unwrap();
        key(&KeyParts {
            targets: &[7; 32],
            scope: "k",
            request: &canonical,
            seed: None,
            schemas: memo,
        })
    }

    #[test]
    fn a_remembered_schema_gives_the_key_a_fresh_one_gives() {
        let memo = SchemaMemo::default();
        let cold = key_with(TOOLS, &memo);
        assert_eq!(memo.len(), 1, "the schema's digest is remembered");
        assert_eq!(key_with(TOOLS, &memo), cold);
        assert_eq!(key_with(TOOLS, &SchemaMemo::default()), cold);
        let reordered = TOOLS.replace(
            r#"{"type":"object","properties":{"x":{"type":"string"}}}"#,
            r#"{ "properties": {"x": {"type": "string"}}, "type": "object" }"#,
        );
        assert_eq!(
            key_with(&reordered, &memo),
            cold,
            "key order still normalised"
        );
        assert_eq!(memo.len(), 2, "each text as sent has its own entry");
        let other = TOOLS.replace(r#""string""#, r#""number""#);
        assert_ne!(key_with(&other, &memo), cold);
    }

    #[test]
    fn the_memo_compares_the_whole_text_so_a_hash_collision_is_a_miss() {
        let memo = SchemaMemo::default();
        let h = memo.hash(r#"{"a":1}"#);
        memo.map
            .lock()
            .unwrap()
            .by_hash
            .insert(h, (r#"{"b":2}"#.into(), [9; 32]));
        assert_eq!(memo.get(r#"{"a":1}"#), None);
        assert_eq!(
            memo.get(r#"{"b":2}"#),
            None,
            "found only under its own hash"
        );
    }

    #[test]
    fn a_full_memo_empties_and_keeps_working() {
        let memo = SchemaMemo::default();
        for i in 0..SchemaMemo::MAX_ENTRIES + 3 {
            memo.insert(&format!("{{\"n\":{i}}}"), [1; 32]);
        }
        assert_eq!(memo.len(), 3);
        assert_eq!(
            memo.get(&format!("{{\"n\":{}}}", SchemaMemo::MAX_ENTRIES + 2)),
            Some([1; 32])
        );
    }

    #[test]
    fn a_prompt_longer_than_the_buffer_still_changes_the_key_by_one_character() {
        let long = "word ".repeat(2000);
        let a = openai_key(&BASE.replace("\"Hi\"", &format!("\"{long}\"")), "k1");
        let b = openai_key(&BASE.replace("\"Hi\"", &format!("\"{long}!\"")), "k1");
        assert_ne!(a, b);
    }

    #[test]
    fn an_openai_and_an_anthropic_client_asking_the_same_thing_share_a_key() {
        let anthropic = r#"{"model":"r","system":"Be brief.","messages":[{"role":"user","content":"Hi"}],"max_tokens":50,"temperature":0}"#;
        assert_eq!(openai_key(BASE, "k1"), anthropic_key(anthropic));
    }
}
