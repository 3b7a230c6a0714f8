//! The shape of an OpenAI stream's content chunks, learnt from the first one the tee decodes,
//! so that later chunks differing from it only in their text are read without a JSON parse.
//!
//! An upstream writes every content chunk of a stream the same way: the same id, created time,
//! model and fingerprint around a different `delta.content`. A chunk whose bytes are the
//! template's up to the opening quote of that text and the template's from its closing quote
//! on, with text between them that holds no quote, backslash or control character (so no JSON
//! escape and no end of the string), is the template chunk with that text: it decodes to the
//! same members, and its content is those bytes as they are. Anything else (a tool call, a
//! finish reason, usage, escaped text, a chunk with a per-chunk member such as OpenAI's
//! `obfuscation` padding) does not match and is parsed as before.
//!
//! Used where the tee must read every chunk's text (a cache miss's fold, an evaluated
//! request's kept answer); a plain stream defers its chunks undecoded instead. Knows OpenAI's
//! chunk shape (`ChunkView`); must not know the tee, the fold or the record.

use switchyard_protocol::openai::ChunkView;

/// One content chunk's data, and where its text is in it.
#[derive(Debug)]
pub(crate) struct ContentTemplate {
    data: String,
    /// The byte range of the text (between its quotes).
    start: usize,
    end: usize,
}

impl ContentTemplate {
    /// From a decoded chunk whose only news is its text ([`plain_text`]), written compactly
    /// (`"content":"…"`, its text unescaped). The place found is checked by parsing the chunk
    /// with another text there: only if that parse reads exactly that text does the template
    /// stand, so a text found elsewhere in the chunk can never be taken for the content.
    pub(crate) fn learn(data: &str, chunk: &ChunkView<'_>) -> Option<Self> {
        const KEY: &str = "\"content\":\"";
        const PROBE: &str = "zq";
        let text = plain_text(chunk)?;
        let needle = format!("{KEY}{text}\"");
        let at = data.find(&needle)?;
        let start = at + KEY.len();
        let end = start + text.len();
        let probe = format!("{}{PROBE}{}", data.get(..start)?, data.get(end..)?);
        let view: ChunkView = serde_json::from_str(&probe).ok()?;
        (plain_text(&view) == Some(PROBE)).then(|| ContentTemplate {
            data: data.to_string(),
            start,
            end,
        })
    }

    /// The text of `data` when it is this template with other (non-empty, unescaped) text.
    pub(crate) fn text_of<'d>(&self, data: &'d str) -> Option<&'d str> {
        let suffix = &self.data.as_bytes()[self.end..];
        let prefix = &self.data.as_bytes()[..self.start];
        let bytes = data.as_bytes();
        if bytes.len() <= prefix.len() + suffix.len()
            || !bytes.starts_with(prefix)
            || !bytes.ends_with(suffix)
        {
            return None;
        }
        let text = data.get(self.start..data.len() - suffix.len())?;
        let plain = !text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\');
        plain.then_some(text)
    }
}

/// The text of a chunk whose only news is its text: one choice with non-empty content, no
/// finish reason, reasoning, tool calls or usage.
fn plain_text<'c>(chunk: &'c ChunkView<'_>) -> Option<&'c str> {
    if chunk.usage.is_some() || chunk.choices.len() != 1 {
        return None;
    }
    let choice = &chunk.choices[0];
    let delta = choice.delta.as_ref()?;
    if choice.finish_reason.is_some()
        || delta.reasoning_content.is_some()
        || delta.tool_calls.is_some()
    {
        return None;
    }
    delta.content.as_deref().filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str) -> String {
        format!(
            r#"{{"id":"c1","object":"chat.completion.chunk","created":7,"choices":[{{"index":0,"delta":{{"content":"{text}"}},"finish_reason":null}}],"usage":null}}"#
        )
    }

    fn learn(data: &str) -> Option<ContentTemplate> {
        let view: ChunkView = serde_json::from_str(data).unwrap();
        ContentTemplate::learn(data, &view)
    }

    #[test]
    fn a_chunk_that_differs_only_in_its_text_reads_as_a_parse_would() {
        let t = learn(&chunk("Hello")).unwrap();
        for text in [" world", "é ü 日本", "a", "tab-free, comma, {braces} [x]"] {
            let data = chunk(text);
            let parsed: ChunkView = serde_json::from_str(&data).unwrap();
            let want = parsed.choices[0].delta.as_ref().unwrap().content.as_deref();
            assert_eq!(t.text_of(&data), want, "{data}");
        }
    }

    #[test]
    fn escapes_quotes_and_other_shapes_are_left_to_the_parser() {
        let t = learn(&chunk("Hello")).unwrap();
        for data in [
            chunk(r"line\nbreak"),
            chunk(r#"say \"hi\""#),
            chunk(""),
            chunk("x\"},\"finish_reason\":\"stop\",\"y\":{\"z\":\""),
            chunk("Hello").replace("null}]", "\"stop\"}]"),
            chunk("Hello").replace("\"usage\":null", "\"usage\":null,\"obfuscation\":\"q\""),
            chunk("Hello").replace("\"id\":\"c1\"", "\"id\":\"c2\""),
            r#"{"choices":[{"delta":{"content":"Hi"}}]}"#.to_string(),
        ] {
            assert_eq!(t.text_of(&data), None, "{data}");
        }
    }

    #[test]
    fn only_a_plain_content_chunk_becomes_a_template() {
        assert!(learn(&chunk("Hello")).is_some());
        assert!(learn(&chunk("")).is_none(), "no text");
        assert!(
            learn(&chunk(r"a\nb")).is_none(),
            "escaped text is not found as written"
        );
        let elsewhere =
            r#"{"id":"Hi","choices":[{"delta":{"content":"H\u0069"}}],"x":{"content":"Hi"}}"#;
        assert!(
            learn(elsewhere).is_none(),
            "the same text in another member is not the content"
        );
        assert!(learn(&chunk("Hi").replace("null}]", "\"stop\"}]")).is_none());
        let tools = r#"{"choices":[{"delta":{"content":"x","tool_calls":[{"index":0}]}}]}"#;
        assert!(learn(tools).is_none());
        let usage = chunk("Hi").replace(
            "\"usage\":null",
            r#""usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}"#,
        );
        assert!(learn(&usage).is_none());
    }
}
