//! One route's evaluation settings (capture policy, shadow candidates, scorers), built from
//! the config at assembly, and the sampling decision the pipeline asks for before each
//! upstream call.

use crate::plan::EvalPlan;
use crate::runtime::Shared;
use chrono::{NaiveDate, Utc};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_catalog::ModelEntry;
use switchyard_eval::Scorer;
use switchyard_gateway::config::CapturePolicy;
use switchyard_gateway::observe::{Observation, RouteObserver, RouteView};
use switchyard_gateway::{ConfigError, RequestContext};
use switchyard_providers::Provider;

/// A shadow candidate of a route.
pub(crate) struct ShadowTarget {
    pub provider: Arc<dyn Provider>,
    pub model: String,
    pub rate: f64,
    pub pricing: Option<Arc<ModelEntry>>,
    pub timeout: Duration,
}

/// A route's capture policy, shadow candidates and scorers.
pub(crate) struct RouteEval {
    pub shared: Arc<Shared>,
    /// The route's own workload, for shadow records when the caller named none.
    pub workload: Option<String>,
    pub capture: Option<CapturePolicy>,
    pub captured_today: Mutex<(NaiveDate, u64)>,
    pub shadows: Vec<ShadowTarget>,
    pub scorers: Vec<Scorer>,
}

/// What the gateway holds for a route: its evaluation settings, shared with each plan.
pub(crate) struct Hook(pub Arc<RouteEval>);

impl RouteObserver for Hook {
    fn sample(&self, ctx: &RequestContext, workload: Option<&str>) -> Option<Box<dyn Observation>> {
        let re = &self.0;
        let capture = re
            .capture
            .as_ref()
            .is_some_and(|p| re.capture_sampled(p, ctx, workload));
        let shadows: Vec<usize> = re
            .shadows
            .iter()
            .enumerate()
            .filter(|(_, s)| switchyard_router::rng::unit() < s.rate)
            .map(|(i, _)| i)
            .collect();
        if !capture && shadows.is_empty() {
            return None;
        }
        Some(Box::new(EvalPlan {
            route: re.clone(),
            ctx: ctx.clone(),
            capture,
            shadows,
        }))
    }
}

impl RouteEval {
    /// Whether the capture policy takes this request: its workloads and tags match, the
    /// sample draw falls under the rate, and today's cap is not reached.
    fn capture_sampled(
        &self,
        p: &CapturePolicy,
        ctx: &RequestContext,
        workload: Option<&str>,
    ) -> bool {
        if !p.workloads.is_empty() && !workload.is_some_and(|w| p.workloads.iter().any(|x| x == w))
        {
            return false;
        }
        let tags_match = p.tags.iter().all(|(k, v)| {
            ctx.tags
                .iter()
                .any(|(tk, tv)| tk == k && v.as_ref().is_none_or(|v| v == tv))
        });
        if !tags_match || switchyard_router::rng::unit() >= p.rate {
            return false;
        }
        let mut day = self
            .captured_today
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let today = Utc::now().date_naive();
        if day.0 != today {
            *day = (today, 0);
        }
        if day.1 >= p.max_per_day {
            return false;
        }
        day.1 += 1;
        true
    }
}

/// Builds a route's evaluation settings from the config; errors name their path.
pub(crate) fn route_eval(
    shared: &Arc<Shared>,
    view: &RouteView<'_>,
    problems: &mut Vec<ConfigError>,
) -> Option<Arc<RouteEval>> {
    let route_idx = view.index();
    let r = view.config().routes.get(route_idx)?;
    if r.capture.is_none() && r.shadow.is_empty() {
        return None;
    }
    let mut scorers = Vec::new();
    for (j, raw) in r.scorers.iter().enumerate() {
        match serde_json::from_value::<switchyard_eval::ScorerSpec>(raw.clone())
            .map_err(|e| e.to_string())
            .and_then(|s| s.compile().map_err(|e| e.to_string()))
        {
            Ok(s) => scorers.push(s),
            Err(message) => problems.push(ConfigError {
                path: format!("routes[{route_idx}].scorers[{j}]"),
                message,
            }),
        }
    }
    let mut shadows = Vec::new();
    for (j, s) in r.shadow.iter().enumerate() {
        let Some(provider) = view.provider(&s.provider) else {
            continue;
        };
        let pricing = match &s.price_as {
            Some((p, m)) => {
                let found = view.catalog().get(p, m).cloned();
                if found.is_none() {
                    problems.push(ConfigError {
                        path: format!("routes[{route_idx}].shadow[{j}].price_as"),
                        message: format!("{p}/{m} is not in the catalog"),
                    });
                }
                found
            }
            None => view.pricing(&s.provider, &s.model),
        };
        shadows.push(ShadowTarget {
            provider,
            model: s.model.clone(),
            rate: s.rate,
            pricing: pricing.map(Arc::new),
            timeout: s.timeout,
        });
    }
    Some(Arc::new(RouteEval {
        shared: shared.clone(),
        workload: r.workload.clone(),
        capture: r.capture.clone(),
        captured_today: Mutex::new((Utc::now().date_naive(), 0)),
        shadows,
        scorers,
    }))
}
