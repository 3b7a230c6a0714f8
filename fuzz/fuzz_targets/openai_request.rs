//! Fuzzes the OpenAI request readers (`POST /v1/chat/completions` and `/v1/embeddings` bodies).
//!
//! Every input is offered to both parsers. An accepted chat request must:
//! - re-serialise for a same-dialect upstream to a JSON object that parses again as the same
//!   request (same messages, stream flag and the rewritten model), and rewriting that body
//!   again changes nothing (the rewrite is a fixpoint);
//! - convert to the canonical form without panicking, and the canonical form must render as
//!   an Anthropic and a Gemini body that are valid JSON objects and as an OpenAI body that the
//!   OpenAI reader accepts again.
//!
//! An accepted embeddings request must re-serialise to a JSON object that parses again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_fuzz::json_object;
use switchyard_protocol::anthropic::{self, MessagesRequest};
use switchyard_protocol::canonical;
use switchyard_protocol::gemini::GenerateContentRequest;
use switchyard_protocol::openai::{ChatRequest, EmbeddingRequest, UpstreamBody};

fuzz_target!(|body: &[u8]| {
    chat(body);
    embeddings(body);
});

fn chat(body: &[u8]) {
    let Ok(req) = ChatRequest::parse(body) else {
        return;
    };
    let opts = UpstreamBody {
        model: "upstream-\"model\"\\ü",
        ask_usage: true,
        omit_model: false,
        // The route's prompt_cache_key (always `sy-` + hex), added unless the client set one.
        cache_key: Some("sy-0123456789abcdef"),
    };
    let out = req.upstream_body(opts);
    json_object("the upstream chat body", &out);
    let again = match ChatRequest::parse(&out) {
        Ok(r) => r,
        Err(e) => panic!("the upstream chat body is refused: {}", e.message),
    };
    assert_eq!(again.model, opts.model, "the model is rewritten");
    assert_eq!(again.messages.len(), req.messages.len(), "messages survive");
    assert_eq!(again.stream, req.stream, "the stream flag survives");
    assert_eq!(again.upstream_body(opts), out, "the rewrite is a fixpoint");
    let omitted = req.upstream_body(UpstreamBody {
        omit_model: true,
        ..opts
    });
    if let Some(members) = json_object("the upstream chat body without model", &omitted) {
        assert!(
            !members.contains_key("model"),
            "omit_model leaves model out"
        );
    }
    to_other_dialects(&req);
}

fn to_other_dialects(req: &ChatRequest<'_>) {
    let Ok((canon, _dropped)) = canonical::ChatRequest::from_openai(req, &["*".to_string()]) else {
        return;
    };
    json_object(
        "the Anthropic body",
        &MessagesRequest::from(&canon).to_json(),
    );
    if let Ok(g) = GenerateContentRequest::try_from(&canon) {
        json_object("the Gemini body", &g.to_json());
    }
    let openai = anthropic::to_openai::openai_request(&canon);
    if let Err(e) = ChatRequest::parse(&openai.json) {
        panic!(
            "the OpenAI body written from the canonical form is refused: {}: {}",
            e.message,
            String::from_utf8_lossy(&openai.json)
        );
    }
}

fn embeddings(body: &[u8]) {
    let Ok(req) = EmbeddingRequest::parse(body) else {
        return;
    };
    let out = req.upstream_body("m", false);
    json_object("the upstream embeddings body", &out);
    match EmbeddingRequest::parse(&out) {
        Ok(again) => assert_eq!(again.texts, req.texts, "inputs survive the rewrite"),
        Err(e) => panic!("the upstream embeddings body is refused: {}", e.message),
    }
    json_object(
        "the embeddings body without model",
        &req.upstream_body("m", true),
    );
}
