//! The Responses API around the pipeline: conversation state and the stored-response endpoints.
//!
//! `POST /v1/responses` with a `previous_response_id` is resolved here, before the pipeline:
//! the stored conversation (one owner-scoped lookup; another key's id is a 404 like an unknown
//! one) is spliced in front of the request's `input` and the id left out, so every target, with
//! server-side state or without, sees the whole conversation and no upstream needs to know the
//! gateway's ids. After a 200 with `store` (default true), the response object (a whole
//! answer's body, a stream's final event) and the conversation so far are queued for the
//! [`Conversations`] writer, never waited on. `GET`/`DELETE /v1/responses/{id}`,
//! `GET …/input_items` and `POST …/cancel` read the same rows, scoped to the caller's key.

use crate::Gateway;
use crate::codec::responses::{Responses, STORED};
use crate::conversations::{Conversations, now_secs};
use crate::error::GatewayError;
use crate::pipeline::RequestContext;
use crate::reply::{Reply, ReplyBody};
use crate::stages::StageTimes;
use bytes::Bytes;
use futures_util::stream::{Stream, StreamExt};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use switchyard_ledger::RecordKind;
use switchyard_ledger::responses::Row;
use switchyard_protocol::FieldError;
use switchyard_protocol::openai::RawObject;
use switchyard_protocol::responses::state;
use switchyard_protocol::sse::{SseEvent, SseFramer};

/// What storing this request's answer needs.
struct Keep {
    store: Conversations,
    key_id: String,
    prior: String,
    input: String,
}

/// What `prepare_responses` learnt: the conversation to prepend, and the request's own input
/// items when it had to parse the body (else the answer stage reports them, [`STORED`]).
struct Prepared {
    store: Conversations,
    key_id: String,
    prior: String,
    input: Option<String>,
}

impl Keep {
    fn save(&self, response: &[u8]) {
        let Some((id, output)) = state::answer_items(response) else {
            return;
        };
        let now = now_secs();
        let retention = i64::try_from(self.store.retention.as_secs()).unwrap_or(i64::MAX);
        self.store.save(Row {
            id,
            key_id: self.key_id.clone(),
            created_at: now,
            expires_at: now.saturating_add(retention),
            response: String::from_utf8_lossy(response).into_owned(),
            input_items: self.input.clone(),
            conversation: state::concat(&[&self.prior, &self.input, &output]),
        });
    }
}

impl Gateway {
    /// `POST /v1/responses`: the stored conversation resolved, the pipeline, the answer kept.
    pub(crate) async fn serve_responses(
        &self,
        ctx: &RequestContext,
        body: Bytes,
        times: StageTimes,
    ) -> Result<Reply, GatewayError> {
        let (body, prepared) = self
            .prepare_responses(ctx, body)
            .await
            .map_err(|e| self.reject(ctx, RecordKind::Responses, None, e))?;
        let cell = std::cell::RefCell::new(None);
        let (reply, cell) = STORED
            .scope(cell, async {
                let reply = self.run::<Responses>(ctx, body, times).await;
                (reply, STORED.with(|c| c.take()))
            })
            .await;
        let mut reply = reply?;
        let keep = match cell {
            Some((true, input)) if reply.status == 200 => Some(Keep {
                input: prepared.input.unwrap_or(input),
                store: prepared.store,
                key_id: prepared.key_id,
                prior: prepared.prior,
            }),
            _ => None,
        };
        if let Some(keep) = keep {
            reply.body = match reply.body {
                ReplyBody::Full(b) => {
                    keep.save(&b);
                    ReplyBody::Full(b)
                }
                ReplyBody::Stream(s) => ReplyBody::Stream(Box::pin(Capture {
                    inner: s,
                    framer: SseFramer::new(),
                    scratch: Vec::new(),
                    keep: Some(keep),
                })),
            };
        }
        Ok(reply)
    }

    /// The body to run (with a stored conversation spliced in) and what storing needs. A body
    /// that names no previous response is not parsed here.
    async fn prepare_responses(
        &self,
        ctx: &RequestContext,
        body: Bytes,
    ) -> Result<(Bytes, Prepared), GatewayError> {
        let mut prepared = Prepared {
            store: self.inner.conversations.clone(),
            key_id: ctx.key_id.clone().unwrap_or_default(),
            prior: "[]".into(),
            input: None,
        };
        if !state::mentions_previous(&body) {
            return Ok((body, prepared));
        }
        // Not a JSON object: the pipeline's parse words the error.
        let Ok(raw) = RawObject::parse(&body) else {
            return Ok((body, prepared));
        };
        let Ok(Some(id)) = raw.decode::<String>("previous_response_id") else {
            return Ok((body, prepared));
        };
        let row = prepared.store.get(&id, &prepared.key_id).await;
        let row = row.map_err(|e| GatewayError::StoreFailed(e.to_string()))?;
        let row = row.ok_or_else(|| previous_not_found(&id))?;
        let input = state::input_items(&raw);
        let merged = Bytes::from(state::expand(&raw, &row.conversation, &input));
        drop(raw);
        prepared.input = Some(input);
        prepared.prior = row.conversation;
        Ok((merged, prepared))
    }

    /// `GET /v1/responses/{id}`: the stored response object.
    pub async fn stored_response(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<String, GatewayError> {
        Ok(self.owned(ctx, id).await?.response)
    }

    /// `GET /v1/responses/{id}/input_items`: the request's input items, paged as OpenAI's list
    /// (`limit` 1–100, default 20; `order` `desc` (default) or `asc`; `after` an item id).
    pub async fn stored_input_items(
        &self,
        ctx: &RequestContext,
        id: &str,
        page: Page<'_>,
    ) -> Result<String, GatewayError> {
        let row = self.owned(ctx, id).await?;
        crate::responses_list::page(&row, page)
    }

    /// `DELETE /v1/responses/{id}`.
    pub async fn delete_response(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<String, GatewayError> {
        let key_id = ctx.key_id.clone().unwrap_or_default();
        match self.inner.conversations.delete(id, &key_id).await {
            Ok(true) => Ok(format!(
                r#"{{"id":{},"object":"response","deleted":true}}"#,
                serde_json::to_string(id).unwrap_or_default()
            )),
            Ok(false) => Err(not_found(id)),
            Err(e) => Err(GatewayError::StoreFailed(e.to_string())),
        }
    }

    /// `POST /v1/responses/{id}/cancel`: only background responses can be cancelled, and this
    /// gateway runs none, so a stored response is a 400 and any other id a 404.
    pub async fn cancel_response(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> Result<String, GatewayError> {
        self.owned(ctx, id).await?;
        Err(GatewayError::InvalidRequest(FieldError::new(
            "response_id",
            "Only responses created with `background: true` can be cancelled; this one has already completed.",
        )))
    }

    /// `POST /v1/responses/input_tokens`: the prompt's tokens (with a stored conversation
    /// spliced in) under `o200k_base`, without calling any upstream.
    pub async fn responses_input_tokens(
        &self,
        ctx: &RequestContext,
        body: Bytes,
    ) -> Result<u64, GatewayError> {
        let (body, _) = self.prepare_responses(ctx, body).await?;
        let req =
            switchyard_protocol::responses::parse(&body).map_err(GatewayError::InvalidRequest)?;
        Ok(crate::tokens::count_canonical_prompt(&req.canonical))
    }

    async fn owned(&self, ctx: &RequestContext, id: &str) -> Result<Row, GatewayError> {
        let key_id = ctx.key_id.clone().unwrap_or_default();
        match self.inner.conversations.get(id, &key_id).await {
            Ok(Some(row)) => Ok(row),
            Ok(None) => Err(not_found(id)),
            Err(e) => Err(GatewayError::StoreFailed(e.to_string())),
        }
    }
}

/// Paging of a list endpoint.
#[derive(Debug, Default, Clone, Copy)]
pub struct Page<'a> {
    pub limit: Option<usize>,
    pub ascending: bool,
    pub after: Option<&'a str>,
}

fn not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(FieldError::new(
        "response_id",
        format!("No response found with id {id:?}."),
    ))
}

fn previous_not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(FieldError::new(
        "previous_response_id",
        format!(
            "Previous response with id {id:?} not found: it was never stored (`store: false`), has expired, or was made with another key. Send the conversation as `input` instead."
        ),
    ))
}

/// Passes a Responses stream through unchanged, keeping the final event's response object.
struct Capture {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>,
    framer: SseFramer,
    scratch: Vec<SseEvent>,
    keep: Option<Keep>,
}

impl Stream for Capture {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let next = this.inner.poll_next_unpin(cx);
        if let (Poll::Ready(Some(Ok(chunk))), Some(_)) = (&next, &this.keep) {
            this.framer.push(chunk, &mut this.scratch);
            for ev in this.scratch.drain(..) {
                if let Some(response) = state::final_response(&ev.data) {
                    if let Some(keep) = this.keep.take() {
                        keep.save(response.as_bytes());
                    }
                    break;
                }
            }
        }
        next
    }
}
