//! A sampled request: once its answer is complete, the capture is queued and the shadow
//! calls are spawned. Never blocks the request path, and never sees a failed answer.

use crate::routes::RouteEval;
use crate::score::output_of;
use crate::shadow::{Primary, ShadowJob};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use switchyard_evalstore::{Capture, CaptureJob};
use switchyard_gateway::RequestContext;
use switchyard_gateway::observe::{Answer, Observation};
use switchyard_ledger::Record;

/// What this request was sampled for.
pub(crate) struct EvalPlan {
    pub route: Arc<RouteEval>,
    pub ctx: RequestContext,
    pub capture: bool,
    pub shadows: Vec<usize>,
}

impl Observation for EvalPlan {
    fn finished(self: Box<Self>, answer: Answer, rec: &Record) {
        let Some(rt) = self.route.shared.runtime.get() else {
            return;
        };
        if rec.status != 200 {
            return;
        }
        let Answer {
            dialect,
            body,
            output,
        } = answer;
        let output = output_of(output);
        if self.capture {
            let request = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let capture = Capture {
                id: rec.request_id.clone(),
                ts: rec.ts,
                workload: rec.workload.clone(),
                route: rec.route.clone(),
                provider: rec.provider.clone(),
                model: rec.model.clone(),
                key_id: rec.key_id.clone(),
                team: rec.team.clone(),
                tags: rec.tags.clone(),
                dialect: dialect.as_str().into(),
                request,
                output_text: output.text.clone(),
                tool_calls: serde_json::to_value(&output.tool_calls).unwrap_or(json!([])),
                cost_usd: rec.cost_usd,
                latency_ms: rec.latency_ms,
                input_tokens: rec.usage.prompt_total(),
                output_tokens: rec.usage.completion_total(),
            };
            if rt.writer.submit(CaptureJob(capture)) {
                rt.counters.captured.fetch_add(1, Ordering::Relaxed);
            }
        }
        if self.shadows.is_empty() {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let primary = Arc::new(Primary {
            output,
            cost: rec.cost_usd,
            latency_ms: rec.latency_ms,
            model: rec.model.clone().unwrap_or_default(),
        });
        for &idx in &self.shadows {
            let Ok(permit) = rt.shadow_slots.clone().try_acquire_owned() else {
                rt.counters
                    .shadow_skipped_busy
                    .fetch_add(1, Ordering::Relaxed);
                continue;
            };
            if !rt.shadow_budget(None) {
                rt.counters
                    .shadow_skipped_budget
                    .fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let job = ShadowJob {
                route: self.route.clone(),
                idx,
                ctx: self.ctx.clone(),
                route_name: rec.route.clone(),
                dialect,
                body: body.clone(),
                primary: primary.clone(),
            };
            handle.spawn(async move {
                job.run().await;
                drop(permit);
            });
        }
    }
}
