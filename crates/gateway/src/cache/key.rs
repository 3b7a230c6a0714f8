//! The exact cache's key: one pass over what determines an answer, in a canonical form.
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
//! One walk, up to two digests (issue #12's third pass; docs/caching.md#why-the-key-is-xxh3):
//!
//! - **lookup: XXH3-128** of the whole encoding (the request's part, then the route's target
//!   digest and the scope's id): the store key's first 16 bytes. The other 16 are the check
//!   digest's first half on a shared scope, else the fingerprint below.
//! - **fingerprint: XXH3-128 of the request's part** (no targets, no scope), taken from the same
//!   state on the way: the ledger's duplicate finder's fingerprint on a cache-enabled route, so
//!   an OpenAI and an Anthropic client asking the same thing count as duplicates there, and
//!   the request is not hashed a second time.
//! - **check: BLAKE3** of the whole encoding, only where the scope is shared (`global`,
//!   `team`, and `key` without a virtual key): kept in the entry, compared on a hit.
//!
//! The threat model. XXH3 resists accidental collisions only; someone who can construct two
//! requests with one XXH3 digest could, on a scope other callers read, get their answer stored
//! under a victim's key. On a shared scope the check closes that twice: half of it is in the
//! store key, so landing on a victim's key takes a 128-bit BLAKE3 second preimage (an
//! overwrite, a `no-cache` refresh included, can only replace the writer's own entry, and the
//! semantic cache, which fetches entries by key for similar requests, cannot be handed a
//! planted one); and a hit is served only when the entry's whole 256-bit digest is the
//! asking request's (a mismatch is a miss, counted and logged). An entry also names the scope
//! that wrote it and is served only to that scope, so a collision across scopes (a `global`
//! writer aiming at someone's `key` entry) is a miss too. On a `key` scope with a virtual key only that key reads or writes its entries: a
//! collision it crafts spoils its own answers, so the check, ~5–9 instructions a byte of the
//! encoding (docs/benchmarks.md), is not paid there; XXH3 is ~0.7. Schema digests and the
//! route's target digest stay BLAKE3 (computed once, remembered), and so does the semantic
//! cache's context hash ([`context_hash`]), which has no later check. Not a defence against
//! whoever can write to the store itself (Redis): they can plant anything under any key.
//!
//! Why not a universal hash with a per-entry secret (POLYVAL) for the check: measured at ~4
//! instructions a byte under callgrind (the `polyval` crate), no cheaper than BLAKE3 on long
//! prompts. Why the check is computed on the request path and not in the store task: it is
//! CPU either way (the goal counts all threads), and the walk that feeds XXH3 feeds it at no
//! extra walking cost. Changing the digests changed every key (`switchyard-exact-v3`, entries
//! `SYE2`): entries written by an older version are misses, never wrong answers.

use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::Mutex;
use switchyard_cache::Key;
use switchyard_ledger::Fingerprint;
use switchyard_protocol::canonical::{
    Block, ChatRequest, ImageSource, ResponseFormat, Role, ToolChoice, Turn,
};

pub(crate) use super::talk::{Plain, PlainRole, PlainTurn, Talk};

/// What the key covers beyond the canonical request.
pub(crate) struct KeyParts<'a> {
    /// The digest of the route's target list.
    pub targets: &'a [u8; 32],
    /// `global`, or the team or key id the entry is confined to.
    pub scope: &'a str,
    /// Whether callers other than the one asking can read the scope's entries (`global`,
    /// `team`, and `key` without a virtual key): then the entry carries, and a hit checks,
    /// the encoding's BLAKE3 digest.
    pub shared: bool,
    pub request: &'a ChatRequest,
    /// The system prompt and turns: `request`'s own, or a plain OpenAI conversation read in
    /// place (then `request` carries only the rest).
    pub talk: Talk<'a>,
    /// The OpenAI `seed` as written (canonical requests do not carry it).
    pub seed: Option<&'a RawValue>,
    /// Schema digests already computed (the shared store handle's).
    pub schemas: &'a SchemaMemo,
}

/// What one pass over the canonical encoding gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keyed {
    /// Where the entry is looked up: XXH3-128 of the whole encoding, then the first half of
    /// the check digest on a shared scope, else the fingerprint.
    pub key: Key,
    /// XXH3-128 of the request's part of the encoding (no targets, no scope): the ledger's
    /// duplicate finder's fingerprint on a cache-enabled route.
    pub fingerprint: Fingerprint,
    /// BLAKE3 of the whole encoding, on a shared scope: stored in the entry, compared on a hit.
    pub check: Option<[u8; 32]>,
}

/// The digest of a route's targets, in order (computed once per route at assembly).
pub(crate) fn targets_digest<'a>(targets: impl Iterator<Item = (&'a str, &'a str)>) -> [u8; 32] {
    let mut h = Hasher::strong(None);
    h.tag(b"targets");
    for (provider, model) in targets {
        h.str(provider);
        h.str(model);
    }
    h.finish_strong()
}

/// The entry's key, the request's fingerprint and, on a shared scope, the check digest: one
/// walk of the canonical request.
pub(crate) fn key(p: &KeyParts<'_>) -> Keyed {
    let mut h = Hasher::new(Some(p.schemas), p.shared);
    h.request(p.request, p.talk, p.seed);
    let fingerprint = h.fork();
    h.put(p.targets);
    h.str(p.scope);
    let (lookup, check) = h.finish();
    let mut key = [0; 32];
    key[..16].copy_from_slice(&lookup.to_le_bytes());
    match &check {
        Some(c) => key[16..].copy_from_slice(&c[..16]),
        None => key[16..].copy_from_slice(&fingerprint.to_le_bytes()),
    }
    Keyed {
        key: Key(key),
        fingerprint: Fingerprint(fingerprint),
        check,
    }
}

/// The fingerprint alone, for a request the cache will not serve (a temperature the route
/// does not cache, `x-switchyard-cache: off`): the same value [`key`] gives it.
pub(crate) fn fingerprint(
    (request, talk): (&ChatRequest, Talk<'_>),
    seed: Option<&RawValue>,
    schemas: &SchemaMemo,
) -> Fingerprint {
    let mut h = Hasher::new(Some(schemas), false);
    h.request(request, talk, seed);
    Fingerprint(h.fork())
}

/// BLAKE3 of the request with `messages` in place of its own, with the route's targets and
/// the scope (the semantic cache's context hash: every turn but the last), without copying
/// the request. Cryptographic on every scope: the semantic cache has no later check.
pub(crate) fn context_hash(p: &KeyParts<'_>, messages: &[Turn]) -> [u8; 32] {
    let mut h = Hasher::strong(Some(p.schemas));
    let talk = Talk::Canonical {
        system: &p.request.system,
        messages,
    };
    h.request(p.request, talk, p.seed);
    h.put(p.targets);
    h.str(p.scope);
    h.finish_strong()
}

/// The canonical encoding, fed to the digests as it is produced.
struct Hasher<'m> {
    /// The lookup digest (absent only for a schema's or the targets' own digest).
    fast: Option<xxhash_rust::xxh3::Xxh3>,
    /// The check digest, on a shared scope.
    strong: Option<blake3::Hasher>,
    /// Small fields gathered for one digest update.
    buf: Vec<u8>,
    /// Where schema digests are remembered (`None`: computed each time).
    schemas: Option<&'m SchemaMemo>,
}

/// The gathering buffer's size; a field at least this long bypasses it.
const BUF: usize = 1024;

impl<'m> Hasher<'m> {
    fn new(schemas: Option<&'m SchemaMemo>, strong: bool) -> Self {
        Hasher {
            fast: Some(xxhash_rust::xxh3::Xxh3::new()),
            strong: strong.then(blake3::Hasher::new),
            buf: Vec::with_capacity(BUF),
            schemas,
        }
    }

    /// BLAKE3 only (schemas, targets, the semantic context).
    fn strong(schemas: Option<&'m SchemaMemo>) -> Self {
        Hasher {
            fast: None,
            strong: Some(blake3::Hasher::new()),
            buf: Vec::with_capacity(BUF),
            schemas,
        }
    }

    /// The request's part of the encoding: everything that determines the answer.
    fn request(&mut self, r: &ChatRequest, talk: Talk<'_>, seed: Option<&RawValue>) {
        self.tag(b"switchyard-exact-v3");
        self.tag(b"system");
        match talk {
            Talk::Canonical { system, messages } => {
                self.blocks(system);
                self.tag(b"messages");
                self.len(messages.len());
                for t in messages {
                    self.tag(match t.role {
                        Role::User => b"u",
                        Role::Assistant => b"a",
                        Role::Tool => b"t",
                    });
                    self.blocks(&t.content);
                }
            }
            Talk::Plain(turns) => self.plain(turns),
        }
        self.tag(b"tools");
        self.len(r.tools.len());
        for t in &r.tools {
            self.str(&t.name);
            self.opt_str(t.description.as_deref());
            self.schema(t.parameters.as_deref());
        }
        self.tool_choice(r);
        self.tag(b"parallel");
        self.put(&[u8::from(r.parallel_tool_calls.unwrap_or(true))]);
        self.tag(b"max_tokens");
        self.put(&r.max_tokens.map_or(u64::MAX, |n| n).to_le_bytes());
        self.f64(r.temperature.unwrap_or(1.0));
        self.f64(r.top_p.unwrap_or(1.0));
        self.stop(&r.stop);
        self.response_format(&r.response_format);
        self.tag(b"seed");
        self.opt_json(seed);
        self.extra(&r.extra);
    }

    /// A [`Talk::Plain`] conversation: the same bytes as [`Hasher::request`]'s canonical arm
    /// writes for its canonical conversion.
    fn plain(&mut self, turns: &[PlainTurn<'_>]) {
        let system = || turns.iter().filter(|t| t.role == PlainRole::System);
        self.len(system().filter(|t| t.text.is_some()).count());
        for text in system().filter_map(|t| t.text) {
            self.tag(b"text");
            self.str(text);
        }
        self.tag(b"messages");
        let rest = || turns.iter().filter(|t| t.role != PlainRole::System);
        self.len(rest().count());
        for t in rest() {
            self.tag(if t.role == PlainRole::User {
                b"u"
            } else {
                b"a"
            });
            self.len(usize::from(t.text.is_some()));
            if let Some(text) = t.text {
                self.tag(b"text");
                self.str(text);
            }
        }
    }

    fn update(&mut self, b: &[u8]) {
        if let Some(f) = &mut self.fast {
            f.update(b);
        }
        if let Some(s) = &mut self.strong {
            s.update(b);
        }
    }

    fn flush(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.update(&buf);
        self.buf = buf;
        self.buf.clear();
    }

    /// XXH3-128 of the encoding so far; the walk goes on (a copy of the state is finished).
    fn fork(&mut self) -> u128 {
        self.flush();
        self.fast.as_ref().map_or(0, |f| f.clone().digest128())
    }

    /// The lookup digest and, on a shared scope, the check digest.
    fn finish(mut self) -> (u128, Option<[u8; 32]>) {
        self.flush();
        let fast = self.fast.as_ref().map_or(0, |f| f.digest128());
        (fast, self.strong.map(|s| *s.finalize().as_bytes()))
    }

    /// The BLAKE3 digest of a [`Hasher::strong`].
    fn finish_strong(mut self) -> [u8; 32] {
        self.flush();
        self.strong.map_or([0; 32], |s| *s.finalize().as_bytes())
    }

    /// The next bytes of the encoding: gathered when short, digested in place when long
    /// (the same byte stream either way, so the digests do not depend on the buffering).
    fn put(&mut self, b: &[u8]) {
        if self.buf.len() + b.len() <= BUF {
            self.buf.extend_from_slice(b);
            return;
        }
        self.flush();
        if b.len() >= BUF {
            self.update(b);
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
                let mut alone = Hasher::strong(None);
                alone.opt_json(Some(v));
                let d = alone.finish_strong();
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
            shared: true,
            request: &canonical,
            talk: Talk::of(&canonical),
            seed,
            schemas: &SchemaMemo::default(),
        })
        .key
    }

    fn anthropic_key(body: &str) -> Key {
        let canonical =
            switchyard_protocol::anthropic::ingress::parse_request(body.as_bytes()).unwrap();
        key(&KeyParts {
            targets: &[7; 32],
            scope: "k1",
            shared: true,
            request: &canonical,
            talk: Talk::of(&canonical),
            seed: None,
            schemas: &SchemaMemo::default(),
        })
        .key
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
        let mut h = Hasher::new(None, true);
        let mut whole = Vec::new();
        for p in pieces {
            h.put(p);
            whole.extend_from_slice(p);
        }
        let (fast, strong) = h.finish();
        assert_eq!(fast, xxhash_rust::xxh3::xxh3_128(&whole));
        assert_eq!(strong.as_ref(), Some(blake3::hash(&whole).as_bytes()));
    }

    const TOOLS: &str = r#"{"model":"r","messages":[{"role":"user","content":"Hi"}],"temperature":0,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"x":{"type":"string"}}}}}]}"#;

    fn key_with(body: &str, memo: &SchemaMemo) -> Key {
        let view = openai::ChatRequest::parse(body.as_bytes()).unwrap();
        let canonical = ChatRequest::try_from(&view).unwrap();
        key(&KeyParts {
            targets: &[7; 32],
            scope: "k",
            shared: false,
            request: &canonical,
            talk: Talk::of(&canonical),
            seed: None,
            schemas: memo,
        })
        .key
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

    fn keyed(body: &str, scope: &str, shared: bool) -> Keyed {
        let view = openai::ChatRequest::parse(body.as_bytes()).unwrap();
        let canonical = ChatRequest::try_from(&view).unwrap();
        key(&KeyParts {
            targets: &[7; 32],
            scope,
            shared,
            request: &canonical,
            talk: Talk::of(&canonical),
            seed: view.raw().get("seed"),
            schemas: &SchemaMemo::default(),
        })
    }

    #[test]
    fn the_fingerprint_is_the_requests_part_alone_and_the_key_adds_targets_and_scope() {
        let a = keyed(BASE, "key:k1", false);
        let b = keyed(BASE, "key:k2", false);
        assert_eq!(
            a.fingerprint, b.fingerprint,
            "the scope is not a duplicate's business"
        );
        assert_ne!(a.key, b.key);
        assert_eq!(a.key.0[16..], a.fingerprint.0.to_le_bytes());
        let shared = keyed(BASE, "global:global", true);
        let check = shared.check.unwrap();
        assert_eq!(
            shared.key.0[16..],
            check[..16],
            "a shared key holds half the check"
        );
        let view = openai::ChatRequest::parse(BASE.as_bytes()).unwrap();
        let canonical = ChatRequest::try_from(&view).unwrap();
        let alone = fingerprint(
            (&canonical, Talk::of(&canonical)),
            None,
            &SchemaMemo::default(),
        );
        assert_eq!(
            alone, a.fingerprint,
            "a bypassed request gets the same fingerprint"
        );
        let other = keyed(&BASE.replace("\"Hi\"", "\"Ho\""), "key:k1", false);
        assert_ne!(other.fingerprint, a.fingerprint);
    }

    #[test]
    fn only_a_shared_scope_pays_for_the_check_digest_and_it_covers_the_scope() {
        assert_eq!(keyed(BASE, "key:k1", false).check, None);
        let global = keyed(BASE, "global:global", true);
        let team = keyed(BASE, "team:t", true);
        assert!(global.check.is_some());
        assert_ne!(global.check, team.check);
        let unshared = keyed(BASE, "global:global", false);
        assert_eq!(
            unshared.key.0[..16],
            global.key.0[..16],
            "the lookup digest does not depend on the check"
        );
        assert_ne!(unshared.key, global.key);
    }

    #[test]
    fn the_context_hash_is_blake3_and_differs_from_the_full_requests() {
        let view = openai::ChatRequest::parse(BASE.as_bytes()).unwrap();
        let canonical = ChatRequest::try_from(&view).unwrap();
        let parts = KeyParts {
            targets: &[7; 32],
            scope: "global:global",
            shared: true,
            request: &canonical,
            talk: Talk::of(&canonical),
            seed: None,
            schemas: &SchemaMemo::default(),
        };
        let all = context_hash(&parts, &canonical.messages);
        assert_eq!(Some(all), key(&parts).check, "one encoding, one BLAKE3");
        assert_ne!(context_hash(&parts, &[]), all);
    }
}
