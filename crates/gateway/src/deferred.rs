//! The stream tee's undecoded events: what it keeps of the events it did not decode, so a
//! stream that ends without usage can still be estimated. Knows OpenAI's chunk shape
//! (`ChunkView`); must not know the tee's framing or the record.

use switchyard_protocol::openai::ChunkView;

/// The data of events not decoded yet, in order, for an estimate if the stream ends without
/// usage (rare: an upstream that never reports it, or a client gone before the last chunk).
///
/// Bounded: past [`Deferred::LIMIT`] bytes an event is not kept but measured, its data's
/// length less the envelope (everything but the text) of the first output event, which was
/// decoded; so a stream holds at most that much per request and decodes nothing it does not
/// need.
#[derive(Default)]
pub(crate) struct Deferred {
    data: String,
    ends: Vec<usize>,
    /// Bytes of an event's data that are not its text, learnt from the first output event.
    pub(crate) envelope: usize,
    /// Text bytes, by that measure, of the events past the limit.
    pub(crate) overflow: u64,
}

impl Deferred {
    const LIMIT: usize = 64 * 1024;

    pub(crate) fn push(&mut self, data: &str) {
        if self.data.len() + data.len() > Self::LIMIT {
            self.overflow += data.len().saturating_sub(self.envelope) as u64;
            return;
        }
        self.data.push_str(data);
        self.ends.push(self.data.len());
    }

    /// Decodes every kept event's text into `text`, in order, and forgets them.
    pub(crate) fn decode_into(&mut self, text: &mut String) {
        let mut start = 0;
        for &end in &self.ends {
            if let Some(Ok(chunk)) = self
                .data
                .get(start..end)
                .map(serde_json::from_str::<ChunkView>)
            {
                for d in chunk.choices.iter().filter_map(|c| c.delta.as_ref()) {
                    d.append_text(text);
                }
            }
            start = end;
        }
        self.data.clear();
        self.ends.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str) -> String {
        format!(r#"{{"id":"c","choices":[{{"index":0,"delta":{{"content":"{text}"}}}}]}}"#)
    }

    #[test]
    fn kept_events_decode_in_order_and_past_the_limit_only_their_text_bytes_are_counted() {
        let mut d = Deferred {
            envelope: chunk("").len(),
            ..Deferred::default()
        };
        d.push(&chunk("Hello"));
        d.push(&chunk(", world"));
        let mut text = String::new();
        d.decode_into(&mut text);
        assert_eq!(text, "Hello, world");
        d.decode_into(&mut text);
        assert_eq!(text, "Hello, world", "decoded events are forgotten");
        let event = chunk("0123456789");
        let kept = Deferred::LIMIT / event.len();
        for _ in 0..kept + 5 {
            d.push(&event);
        }
        assert!(d.data.len() <= Deferred::LIMIT);
        assert_eq!(
            d.overflow,
            5 * 10,
            "the text bytes of the 5 events not kept"
        );
        let mut text = String::new();
        d.decode_into(&mut text);
        assert_eq!(text.len(), kept * 10);
    }
}
