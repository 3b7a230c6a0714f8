//! What the exact cache stores: one answer, dialect-neutral (text, tool calls, why it stopped,
//! its usage and who answered), built from a whole answer in OpenAI's or Anthropic's shape or
//! from a finished stream's events, and turned back into a canonical [`ChatResponse`] for
//! replay. Stored in a small length-prefixed binary form (`SYE1`): writing and reading it is
//! a few copies, where JSON cost tens of thousands of instructions per entry in the debug
//! build (docs/benchmarks.md).
//!
//! Only complete answers become entries: an answer that stopped for its output limit is
//! refused unless the route allows it, and so is one carrying reasoning (a thinking signature
//! must travel back verbatim, and an OpenAI client cannot receive it). Must never know the
//! store or the request path.

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::value::RawValue;
use switchyard_primitives::TokenUsage;
use switchyard_protocol::canonical::{Block, ChatResponse, StopReason};
use switchyard_protocol::openai::ChunkView;

/// One stored answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// The provider and model that answered (the hit's record names them; its saving is
    /// priced with their current price).
    pub provider: String,
    pub model: String,
    pub text: String,
    pub calls: Vec<Call>,
    /// OpenAI's `finish_reason` vocabulary: `stop`, `tool_calls`, `length`, `content_filter`.
    pub finish: String,
    pub usage: TokenUsage,
    /// The whole answer as an OpenAI client received it, when it came whole in OpenAI's
    /// shape: a non-streamed OpenAI replay sends these bytes as they are. Such an entry keeps
    /// no `text`/`calls`: they are read from the body only when a replay needs them
    /// ([`Entry::neutral`]), so the miss that stores it does not parse the answer.
    pub openai: Option<Bytes>,
    /// The scope id of the request that wrote it (`global:global`, `team:…`, `key:…`): only
    /// that scope is served it. Set by the write ([`Entry::sealed`]).
    pub scope: String,
    /// On a shared scope, the writing request's BLAKE3 check digest (`cache/key.rs`), which a
    /// hit must match.
    pub check: Option<[u8; 32]>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub id: String,
    pub name: String,
    /// The arguments as JSON text (checked to be JSON when stored).
    pub arguments: String,
}

/// Why an answer was not stored.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not a complete answer we can read (no finish reason, unparseable).
    Unreadable,
    /// Stopped at the output limit, and the route does not store those.
    Length,
    /// Carries reasoning, which a replay could not reproduce faithfully.
    Reasoning,
}

impl Entry {
    /// From a canonical answer (a whole OpenAI or Anthropic body, parsed).
    pub(crate) fn from_response(
        resp: ChatResponse,
        answered_by: (&str, &str),
    ) -> Result<Self, Refused> {
        let mut text = String::new();
        let mut calls = Vec::new();
        for block in resp.content {
            match block {
                Block::Text { text: t, .. } => text.push_str(&t),
                Block::ToolUse {
                    id, name, input, ..
                } => calls.push(Call {
                    id,
                    name,
                    arguments: input.get().to_string(),
                }),
                Block::Thinking { .. } | Block::RedactedThinking { .. } => {
                    return Err(Refused::Reasoning);
                }
                Block::Image { .. } | Block::ToolResult { .. } => {}
            }
        }
        Ok(Entry {
            provider: answered_by.0.to_string(),
            model: answered_by.1.to_string(),
            text,
            calls,
            finish: resp.stop_reason.to_openai().to_string(),
            usage: resp.usage,
            openai: None,
            scope: String::new(),
            check: None,
        })
    }

    /// A whole OpenAI answer as it came (`usage` as the codec read it); `None` without a
    /// finish reason. The body is not parsed here.
    pub(crate) fn from_openai_body(
        body: &Bytes,
        usage: TokenUsage,
        answered_by: (&str, &str),
    ) -> Option<Self> {
        Some(Entry {
            provider: answered_by.0.to_string(),
            model: answered_by.1.to_string(),
            text: String::new(),
            calls: Vec::new(),
            finish: finish_reason_of(body)?,
            usage,
            openai: Some(body.clone()),
            scope: String::new(),
            check: None,
        })
    }

    /// The entry with its text and tool calls, reading a kept OpenAI body if need be. A body
    /// that no longer parses replays as the (empty) entry it is.
    pub(crate) fn neutral(&self) -> std::borrow::Cow<'_, Entry> {
        let Some(body) = &self.openai else {
            return std::borrow::Cow::Borrowed(self);
        };
        // Reasoning (`reasoning_content`) has no place in the neutral form: dropped here.
        let parsed = switchyard_protocol::anthropic::from_openai::parse_openai_response(body)
            .ok()
            .and_then(|mut r| {
                r.content.retain(|b| {
                    !matches!(b, Block::Thinking { .. } | Block::RedactedThinking { .. })
                });
                Entry::from_response(r, (&self.provider, &self.model)).ok()
            });
        match parsed {
            Some(e) => std::borrow::Cow::Owned(Entry {
                usage: self.usage,
                finish: self.finish.clone(),
                openai: None,
                ..e
            }),
            None => std::borrow::Cow::Borrowed(self),
        }
    }

    /// The entry as written for a request of `scope` (with its check digest on a shared one).
    pub(crate) fn sealed(mut self, scope: &str, check: Option<[u8; 32]>) -> Self {
        self.scope = scope.to_string();
        self.check = check;
        self
    }

    /// Whether a request of `expect.scope` (and `expect.check`, on a shared scope) may be
    /// served this entry. An entry without a check never serves a request that has one.
    pub(crate) fn serves(&self, expect: &Expect<'_>) -> bool {
        self.scope == expect.scope && expect.check.is_none_or(|c| self.check == Some(c))
    }

    /// Whether the route may keep it.
    pub(crate) fn check(&self, allow_length: bool) -> Result<(), Refused> {
        if self.finish == "length" && !allow_length {
            return Err(Refused::Length);
        }
        if self
            .calls
            .iter()
            .any(|c| serde_json::from_str::<&RawValue>(&c.arguments).is_err())
        {
            return Err(Refused::Unreadable);
        }
        Ok(())
    }

    pub(crate) fn to_bytes(&self) -> Bytes {
        let calls: usize = self
            .calls
            .iter()
            .map(|c| c.id.len() + c.name.len() + c.arguments.len() + 12)
            .sum();
        let extra = self.openai.as_ref().map_or(0, Bytes::len);
        let mut b =
            BytesMut::with_capacity(136 + self.scope.len() + self.text.len() + calls + extra);
        b.put_slice(MAGIC);
        put_str(&mut b, self.scope.as_bytes());
        match &self.check {
            None => b.put_u8(0),
            Some(c) => {
                b.put_u8(1);
                b.put_slice(c);
            }
        }
        for s in [&self.provider, &self.model, &self.finish, &self.text] {
            put_str(&mut b, s.as_bytes());
        }
        let u = &self.usage;
        for n in [
            u.input,
            u.cached_input,
            u.cache_write,
            u.cache_write_1h,
            u.output,
            u.reasoning,
        ] {
            b.put_u64_le(n);
        }
        b.put_u32_le(self.calls.len() as u32);
        for c in &self.calls {
            for s in [&c.id, &c.name, &c.arguments] {
                put_str(&mut b, s.as_bytes());
            }
        }
        match &self.openai {
            None => b.put_u8(0),
            Some(body) => {
                b.put_u8(1);
                put_str(&mut b, body);
            }
        }
        b.freeze()
    }

    /// `None` for bytes this version cannot read (another format, a cut value): a miss.
    pub(crate) fn from_bytes(b: &[u8]) -> Option<Self> {
        let mut r = Reader(b.strip_prefix(MAGIC.as_slice())?);
        let scope = r.string()?;
        let check = match r.take(1)? {
            [0] => None,
            _ => Some(r.take(32)?.try_into().ok()?),
        };
        let (provider, model, finish, text) = (r.string()?, r.string()?, r.string()?, r.string()?);
        let mut n = [0u64; 6];
        for slot in &mut n {
            *slot = r.u64()?;
        }
        let usage = TokenUsage {
            input: n[0],
            cached_input: n[1],
            cache_write: n[2],
            cache_write_1h: n[3],
            output: n[4],
            reasoning: n[5],
        };
        let count = r.u32()? as usize;
        let mut calls = Vec::with_capacity(count.min(128));
        for _ in 0..count {
            calls.push(Call {
                id: r.string()?,
                name: r.string()?,
                arguments: r.string()?,
            });
        }
        let openai = match r.take(1)? {
            [0] => None,
            _ => Some(Bytes::copy_from_slice(r.bytes()?)),
        };
        Some(Entry {
            provider,
            model,
            text,
            calls,
            finish,
            usage,
            openai,
            scope,
            check,
        })
    }

    /// As a canonical answer, for the whole-answer renderers.
    pub(crate) fn to_response(&self, id: String, model: String) -> ChatResponse {
        let mut content = Vec::new();
        if !self.text.is_empty() || self.calls.is_empty() {
            content.push(Block::text(self.text.clone()));
        }
        for c in &self.calls {
            // Checked to be JSON before it was stored.
            let Ok(input) = RawValue::from_string(c.arguments.clone()) else {
                continue;
            };
            content.push(Block::ToolUse {
                id: c.id.clone(),
                name: c.name.clone(),
                input,
                cache_control: None,
            });
        }
        ChatResponse {
            id,
            model,
            content,
            stop_reason: StopReason::from_openai(&self.finish),
            usage: self.usage,
        }
    }
}

/// `SYE2`: `SYE1` with the writer's scope and check digest in front (issue #12). An `SYE1`
/// entry left in a shared store by an older version is unreadable here, so a miss.
const MAGIC: &[u8; 4] = b"SYE2";

/// What a lookup requires of an entry ([`Entry::serves`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect<'a> {
    pub scope: &'a str,
    /// The asking request's check digest, on a shared scope.
    pub check: Option<[u8; 32]>,
}

/// `choices[0].finish_reason` of an OpenAI body, found from the end (it follows the message
/// and precedes only `usage`), without parsing the body. `None` when absent or `null`.
fn finish_reason_of(body: &[u8]) -> Option<String> {
    // `str` searching runs in the precompiled standard library; a byte loop here runs at the
    // debug build's opt-level 0 (hundreds of thousands of instructions per answer).
    const KEY: &str = "\"finish_reason\"";
    let text = std::str::from_utf8(body).ok()?;
    let at = text.rfind(KEY)? + KEY.len();
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

fn put_str(b: &mut BytesMut, s: &[u8]) {
    b.put_u32_le(s.len() as u32);
    b.put_slice(s);
}

/// Reads the stored form; every read is bounds-checked (`None` past the end).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
}

/// OpenAI `chat.completion.chunk` events folded into an answer, as a stream tee saw them.
#[derive(Default)]
pub(crate) struct Fold {
    text: String,
    /// (id, name, arguments) by index.
    calls: Vec<(String, String, String)>,
    finish: Option<String>,
    usage: Option<TokenUsage>,
    reasoning: bool,
}

impl Fold {
    /// One event's `data`; `[DONE]` and what is not a chunk are ignored.
    pub(crate) fn push(&mut self, data: &str) {
        if let Ok(chunk) = serde_json::from_str::<ChunkView<'_>>(data) {
            self.push_view(&chunk);
        }
    }

    /// One chunk the stream tee already decoded (so an OpenAI stream is parsed once for
    /// both its usage and the cache).
    pub(crate) fn push_view(&mut self, chunk: &ChunkView<'_>) {
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.to_tokens());
        }
        for c in &chunk.choices {
            if let Some(r) = &c.finish_reason {
                self.finish = Some(r.to_string());
            }
            let Some(d) = &c.delta else { continue };
            if let Some(t) = &d.content {
                self.text.push_str(t);
            }
            if d.reasoning_content
                .as_deref()
                .is_some_and(|r| !r.is_empty())
            {
                self.reasoning = true;
            }
            for (pos, call) in d.tool_calls.iter().flatten().enumerate() {
                let i = call.index.unwrap_or(pos).min(127);
                if self.calls.len() <= i {
                    self.calls.resize(i + 1, Default::default());
                }
                let slot = &mut self.calls[i];
                if let Some(id) = &call.id {
                    slot.0.push_str(id);
                }
                if let Some(f) = &call.function {
                    slot.1.push_str(f.name.as_deref().unwrap_or(""));
                    slot.2.push_str(f.arguments.as_deref().unwrap_or(""));
                }
            }
        }
    }

    /// The text of a content-only chunk the tee read without decoding it.
    pub(crate) fn push_text(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// The answer, if the stream finished with a reason and reported its usage.
    pub(crate) fn finish(self, answered_by: (&str, &str)) -> Result<Entry, Refused> {
        if self.reasoning {
            return Err(Refused::Reasoning);
        }
        let (Some(finish), Some(usage)) = (self.finish, self.usage) else {
            return Err(Refused::Unreadable);
        };
        Ok(Entry {
            provider: answered_by.0.to_string(),
            model: answered_by.1.to_string(),
            text: self.text,
            calls: self
                .calls
                .into_iter()
                .map(|(id, name, arguments)| Call {
                    id,
                    name,
                    arguments: if arguments.is_empty() {
                        "{}".into()
                    } else {
                        arguments
                    },
                })
                .collect(),
            finish,
            usage,
            openai: None,
            scope: String::new(),
            check: None,
        })
    }
}

/// A stream tee's fold: OpenAI chunks as they are, Anthropic events through the protocol's
/// Anthropic → OpenAI translator first, so one fold reads both.
pub(crate) struct StreamFold {
    fold: Fold,
    anthropic: Option<switchyard_protocol::anthropic::stream::ToOpenAi>,
}

impl StreamFold {
    pub(crate) fn new(anthropic: bool) -> Self {
        let opts = switchyard_protocol::anthropic::stream::StreamOptions {
            include_usage: true,
            ..Default::default()
        };
        StreamFold {
            fold: Fold::default(),
            anthropic: anthropic
                .then(|| switchyard_protocol::anthropic::stream::ToOpenAi::new(opts)),
        }
    }

    /// One event's `data`.
    pub(crate) fn push(&mut self, data: &str) {
        match &mut self.anthropic {
            None => self.fold.push(data),
            Some(tr) => {
                for chunk in tr.push_data(data) {
                    self.fold.push(&chunk);
                }
            }
        }
    }

    /// An OpenAI chunk the tee decoded itself.
    pub(crate) fn push_view(&mut self, chunk: &ChunkView<'_>) {
        self.fold.push_view(chunk);
    }

    /// A content-only OpenAI chunk's text (see `content_chunk`).
    pub(crate) fn push_text(&mut self, text: &str) {
        self.fold.push_text(text);
    }

    pub(crate) fn finish(self) -> Fold {
        self.fold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streamed_answer_folds_into_text_tool_calls_finish_and_usage() {
        let mut f = Fold::default();
        for data in [
            r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"delta":{"content":"Hel"}}]}"#,
            r#"{"choices":[{"delta":{"content":"lo"}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"get","arguments":"{\"a\""}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}"#,
            "[DONE]",
        ] {
            f.push(data);
        }
        let e = f.finish(("p", "m")).unwrap();
        assert_eq!(e.text, "Hello");
        assert_eq!(
            e.calls,
            vec![Call {
                id: "call_1".into(),
                name: "get".into(),
                arguments: "{\"a\":1}".into()
            }]
        );
        assert_eq!(
            (e.finish.as_str(), e.usage.input, e.usage.output),
            ("tool_calls", 9, 4)
        );
        assert_eq!(Entry::from_bytes(&e.to_bytes()), Some(e.clone()));
        let with_body = Entry {
            openai: Some(Bytes::from_static(b"{}")),
            ..e
        };
        let stored = with_body.to_bytes();
        assert_eq!(Entry::from_bytes(&stored), Some(with_body));
        assert_eq!(
            Entry::from_bytes(&stored[..stored.len() - 1]),
            None,
            "a cut value is a miss"
        );
        assert_eq!(Entry::from_bytes(b"{\"json\":1}"), None);
    }

    #[test]
    fn a_whole_openai_body_is_kept_with_its_finish_reason_and_read_only_when_replayed() {
        let body = Bytes::from_static(br#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hi \"finish_reason\": no"},"finish_reason" : "length"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#);
        let e = Entry::from_openai_body(&body, TokenUsage::default(), ("p", "m")).unwrap();
        assert_eq!(e.finish, "length");
        assert!(e.text.is_empty());
        assert_eq!(e.neutral().text, "Hi \"finish_reason\": no");
        let null = Bytes::from_static(br#"{"choices":[{"finish_reason":null}]}"#);
        assert!(Entry::from_openai_body(&null, TokenUsage::default(), ("p", "m")).is_none());
    }

    #[test]
    fn a_stream_without_a_finish_reason_is_not_an_answer() {
        let mut f = Fold::default();
        f.push(r#"{"choices":[{"delta":{"content":"Hel"}}]}"#);
        assert_eq!(f.finish(("p", "m")).err(), Some(Refused::Unreadable));
    }

    #[test]
    fn length_stops_are_refused_unless_allowed() {
        let mut f = Fold::default();
        f.push(r#"{"choices":[{"delta":{"content":"cut"},"finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#);
        let e = f.finish(("p", "m")).unwrap();
        assert_eq!(e.check(false), Err(Refused::Length));
        assert_eq!(e.check(true), Ok(()));
    }

    #[test]
    fn an_entry_serves_only_its_writers_scope_and_on_a_shared_scope_only_its_check() {
        let mut f = Fold::default();
        f.push(r#"{"choices":[{"delta":{"content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#);
        let plain = f.finish(("p", "m")).unwrap();
        let shared = plain.clone().sealed("global:global", Some([4; 32]));
        let stored = Entry::from_bytes(&shared.to_bytes()).unwrap();
        assert_eq!(stored, shared, "scope and check survive the store");
        let asks = |scope, check| Expect { scope, check };
        assert!(stored.serves(&asks("global:global", Some([4; 32]))));
        assert!(
            !stored.serves(&asks("global:global", Some([5; 32]))),
            "a crafted lookup collision fails the check"
        );
        assert!(
            stored.serves(&asks("global:global", None)),
            "the semantic cache fetches a similar request's entry by scope alone"
        );
        assert!(
            !stored.serves(&asks("key:vk_1", None)),
            "another scope's entry is never served"
        );
        let own = plain.sealed("key:vk_1", None);
        let own = Entry::from_bytes(&own.to_bytes()).unwrap();
        assert!(own.serves(&asks("key:vk_1", None)));
        assert!(
            !own.serves(&asks("key:vk_1", Some([4; 32]))),
            "an entry without a check never serves a request that carries one"
        );
        let mut old = own.to_bytes().to_vec();
        old[..4].copy_from_slice(b"SYE1");
        assert_eq!(Entry::from_bytes(&old), None, "an older format is a miss");
    }
}
