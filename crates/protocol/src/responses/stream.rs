//! Canonical stream events → the Responses API's typed SSE events.
//!
//! `Start` opens the response (`response.created`, `response.in_progress`). Each run of
//! reasoning, text or one tool call's arguments is one output item: `response.output_item.added`
//! then its parts (`response.reasoning_summary_part.added` / `response.content_part.added`),
//! deltas (`response.reasoning_summary_text.delta`, `response.output_text.delta`,
//! `response.function_call_arguments.delta`) as they come, and when the next item begins or the
//! answer finishes, the matching `.done` events and `response.output_item.done`. The end is
//! `response.completed`, or `response.incomplete` (output limit, content filter), or
//! `response.failed` (an upstream error, or a stream that ended before finishing), each carrying
//! the whole response object. Every event has its `sequence_number`, from 0.
//!
//! Each input event is rendered at once: nothing waits for later events, so the client sees
//! each delta as the upstream sends it. The renderer keeps the finished items only to write the
//! final response object, as OpenAI's last event carries it.

use super::response::{
    Ids, OutputItem, OutputText, SIGNATURE_PREFIX, Snapshot, SummaryText, Usage, status_of,
};
use crate::canonical::StopReason;
use crate::canonical::event::StreamEvent;
use switchyard_primitives::TokenUsage;

/// The item being streamed.
enum Open {
    Reasoning {
        text: String,
    },
    Message {
        text: String,
    },
    Call {
        index: u32,
        call_id: String,
        name: String,
        args: String,
    },
}

/// Renders one response's events; see the module docs for the sequence.
pub struct Renderer {
    ids: Ids,
    model: String,
    created_at: u64,
    echo: String,
    seq: u64,
    output: Vec<OutputItem>,
    open: Option<Open>,
    signature: Option<String>,
    usage: Option<TokenUsage>,
    stop: Option<StopReason>,
    started: bool,
    ended: bool,
}

impl Renderer {
    /// `model` is the name the client asked for; `echo` is [`super::Echo::fragment`].
    pub fn new(ids: Ids, model: String, created_at: u64, echo: String) -> Self {
        Renderer {
            ids,
            model,
            created_at,
            echo,
            seq: 0,
            output: Vec::new(),
            open: None,
            signature: None,
            usage: None,
            stop: None,
            started: false,
            ended: false,
        }
    }

    /// Whether the final event has been written.
    pub fn is_done(&self) -> bool {
        self.ended
    }

    /// The SSE frames for one canonical event.
    pub fn push(&mut self, ev: StreamEvent) -> Vec<String> {
        let mut out = Vec::new();
        if self.ended {
            return out;
        }
        if !self.started {
            self.start(&mut out);
        }
        match ev {
            StreamEvent::Start { .. } => {}
            StreamEvent::Reasoning(t) => self.reasoning(t, &mut out),
            StreamEvent::ReasoningSignature(s) => {
                self.signature.get_or_insert_with(String::new).push_str(&s);
            }
            StreamEvent::Text(t) => self.text(t, &mut out),
            StreamEvent::ToolCallStart { index, id, name } => {
                self.close(&mut out);
                self.open_item(
                    Open::Call {
                        index,
                        call_id: id,
                        name,
                        args: String::new(),
                    },
                    &mut out,
                );
            }
            StreamEvent::ToolCallArguments { index, fragment } => {
                self.arguments(index, fragment, &mut out)
            }
            StreamEvent::Finish(reason) => {
                self.close(&mut out);
                self.stop = Some(reason);
            }
            StreamEvent::Usage(u) => self.usage = Some(u),
            StreamEvent::Error { kind, message } => {
                self.close(&mut out);
                self.end("failed", None, Some((&kind, &message)), &mut out);
            }
        }
        out
    }

    /// The closing frames once the upstream stream has ended.
    pub fn finish(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        if self.ended {
            return out;
        }
        if !self.started {
            self.start(&mut out);
        }
        self.close(&mut out);
        match self.stop.take() {
            Some(stop) => {
                let (status, incomplete) = status_of(&stop);
                self.end(status, incomplete, None, &mut out);
            }
            None => self.end(
                "failed",
                None,
                Some((
                    "upstream_error",
                    "The upstream stream ended before the answer was complete.",
                )),
                &mut out,
            ),
        }
        out
    }

    fn start(&mut self, out: &mut Vec<String>) {
        self.started = true;
        let body = self.snapshot("in_progress", None, None);
        self.emit(out, "response.created", &format!("\"response\":{body}"));
        self.emit(out, "response.in_progress", &format!("\"response\":{body}"));
    }

    fn end(
        &mut self,
        status: &'static str,
        incomplete: Option<&'static str>,
        error: Option<(&str, &str)>,
        out: &mut Vec<String>,
    ) {
        self.ended = true;
        let body = self.snapshot(status, incomplete, error);
        let name = match status {
            "completed" => "response.completed",
            "incomplete" => "response.incomplete",
            _ => "response.failed",
        };
        self.emit(out, name, &format!("\"response\":{body}"));
    }

    fn snapshot(
        &self,
        status: &'static str,
        incomplete: Option<&'static str>,
        error: Option<(&str, &str)>,
    ) -> String {
        Snapshot {
            ids: &self.ids,
            model: &self.model,
            created_at: self.created_at,
            status,
            output: &self.output,
            usage: self
                .usage
                .as_ref()
                .filter(|_| status != "in_progress")
                .map(Usage::of),
            incomplete,
            error,
            echo: &self.echo,
        }
        .to_json()
    }

    fn reasoning(&mut self, t: String, out: &mut Vec<String>) {
        if !matches!(self.open, Some(Open::Reasoning { .. })) {
            self.close(out);
            self.open_item(
                Open::Reasoning {
                    text: String::new(),
                },
                out,
            );
        }
        let (id, index) = self.current("rs");
        let fields = format!(
            "\"item_id\":\"{id}\",\"output_index\":{index},\"summary_index\":0,\"delta\":{}",
            json(&t)
        );
        self.emit(out, "response.reasoning_summary_text.delta", &fields);
        if let Some(Open::Reasoning { text }) = &mut self.open {
            text.push_str(&t);
        }
    }

    fn text(&mut self, t: String, out: &mut Vec<String>) {
        if !matches!(self.open, Some(Open::Message { .. })) {
            self.close(out);
            self.open_item(
                Open::Message {
                    text: String::new(),
                },
                out,
            );
        }
        let (id, index) = self.current("msg");
        let fields = format!(
            "\"item_id\":\"{id}\",\"output_index\":{index},\"content_index\":0,\"delta\":{},\"logprobs\":[]",
            json(&t)
        );
        self.emit(out, "response.output_text.delta", &fields);
        if let Some(Open::Message { text }) = &mut self.open {
            text.push_str(&t);
        }
    }

    fn arguments(&mut self, index: u32, fragment: String, out: &mut Vec<String>) {
        // Fragments of a call other than the open one (not sent by OpenAI-style upstreams,
        // which finish one call before the next) are kept with the call they belong to.
        let Some(Open::Call {
            index: open, args, ..
        }) = &mut self.open
        else {
            return;
        };
        if *open == index {
            args.push_str(&fragment);
            let (id, at) = self.current("fc");
            let fields = format!(
                "\"item_id\":\"{id}\",\"output_index\":{at},\"delta\":{}",
                json(&fragment)
            );
            self.emit(out, "response.function_call_arguments.delta", &fields);
        }
    }

    /// The open item's id and output index.
    fn current(&self, prefix: &str) -> (String, usize) {
        let index = self.output.len();
        (self.ids.item(prefix, index), index)
    }

    fn open_item(&mut self, item: Open, out: &mut Vec<String>) {
        let index = self.output.len();
        let (added, part) = match &item {
            Open::Reasoning { .. } => {
                let id = self.ids.item("rs", index);
                (
                    format!("{{\"id\":\"{id}\",\"type\":\"reasoning\",\"summary\":[]}}"),
                    Some((
                        "response.reasoning_summary_part.added",
                        format!(
                            "\"item_id\":\"{id}\",\"output_index\":{index},\"summary_index\":0,\"part\":{{\"type\":\"summary_text\",\"text\":\"\"}}"
                        ),
                    )),
                )
            }
            Open::Message { .. } => {
                let id = self.ids.item("msg", index);
                (
                    format!(
                        "{{\"id\":\"{id}\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}"
                    ),
                    Some((
                        "response.content_part.added",
                        format!(
                            "\"item_id\":\"{id}\",\"output_index\":{index},\"content_index\":0,\"part\":{{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[]}}"
                        ),
                    )),
                )
            }
            Open::Call { call_id, name, .. } => {
                let id = self.ids.item("fc", index);
                (
                    format!(
                        "{{\"id\":\"{id}\",\"type\":\"function_call\",\"status\":\"in_progress\",\"arguments\":\"\",\"call_id\":{},\"name\":{}}}",
                        json(call_id),
                        json(name)
                    ),
                    None,
                )
            }
        };
        self.emit(
            out,
            "response.output_item.added",
            &format!("\"output_index\":{index},\"item\":{added}"),
        );
        if let Some((name, fields)) = part {
            self.emit(out, name, &fields);
        }
        self.open = Some(item);
    }

    /// Ends the open item: its `.done` events, then `response.output_item.done`.
    fn close(&mut self, out: &mut Vec<String>) {
        let Some(open) = self.open.take() else { return };
        let index = self.output.len();
        let item = match open {
            Open::Reasoning { text } => self.close_reasoning(index, text, out),
            Open::Message { text } => self.close_message(index, text, out),
            Open::Call {
                call_id,
                name,
                args,
                ..
            } => {
                let id = self.ids.item("fc", index);
                let fields = format!(
                    "\"item_id\":\"{id}\",\"output_index\":{index},\"name\":{},\"arguments\":{}",
                    json(&name),
                    json(&args)
                );
                self.emit(out, "response.function_call_arguments.done", &fields);
                OutputItem::FunctionCall {
                    id,
                    call_id,
                    name,
                    arguments: args,
                    status: "completed",
                }
            }
        };
        let rendered = serde_json::to_string(&item).unwrap_or_default();
        self.output.push(item);
        self.emit(
            out,
            "response.output_item.done",
            &format!("\"output_index\":{index},\"item\":{rendered}"),
        );
    }

    fn close_reasoning(&mut self, index: usize, text: String, out: &mut Vec<String>) -> OutputItem {
        let id = self.ids.item("rs", index);
        let head = format!("\"item_id\":\"{id}\",\"output_index\":{index},\"summary_index\":0");
        self.emit(
            out,
            "response.reasoning_summary_text.done",
            &format!("{head},\"text\":{}", json(&text)),
        );
        let part = format!("{{\"type\":\"summary_text\",\"text\":{}}}", json(&text));
        self.emit(
            out,
            "response.reasoning_summary_part.done",
            &format!("{head},\"part\":{part}"),
        );
        OutputItem::Reasoning {
            id,
            summary: vec![SummaryText::new(text)],
            encrypted_content: self
                .signature
                .take()
                .map(|s| format!("{SIGNATURE_PREFIX}{s}")),
        }
    }

    fn close_message(&mut self, index: usize, text: String, out: &mut Vec<String>) -> OutputItem {
        let id = self.ids.item("msg", index);
        let head = format!("\"item_id\":\"{id}\",\"output_index\":{index},\"content_index\":0");
        let done = format!("{head},\"text\":{},\"logprobs\":[]", json(&text));
        self.emit(out, "response.output_text.done", &done);
        let part = format!(
            "{{\"type\":\"output_text\",\"text\":{},\"annotations\":[]}}",
            json(&text)
        );
        self.emit(
            out,
            "response.content_part.done",
            &format!("{head},\"part\":{part}"),
        );
        OutputItem::Message {
            id,
            status: "completed",
            role: "assistant",
            content: vec![OutputText::new(text)],
        }
    }

    /// One SSE frame: `event: name` and a data object of `type`, `sequence_number`, `fields`.
    fn emit(&mut self, out: &mut Vec<String>, name: &str, fields: &str) {
        out.push(format!(
            "event: {name}\ndata: {{\"type\":\"{name}\",\"sequence_number\":{},{fields}}}\n\n",
            self.seq
        ));
        self.seq += 1;
    }
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
