//! The scrape: our collectors written through prometheus-client's OpenMetrics text encoder
//! (names, units, `_total`/`_bucket` suffixes, escaping and `# EOF` are the crate's).

use crate::histogram::Histogram;
use crate::labels::Sym;
use crate::requests::{GenAiKey, LEVERS, OPERATIONS, OUTCOMES, SeriesKey, TOKEN_TYPES, snapshot};
use crate::{CACHE_RESULTS, Metrics, Snapshot};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub(crate) type Labels<'a> = Vec<(&'static str, &'a str)>;

pub(crate) fn encode(metrics: &Metrics, snapshot: Snapshot) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape {
        metrics: metrics.clone(),
        snapshot,
    }));
    let mut out = String::with_capacity(16 * 1024);
    // Writing into a String cannot fail; an encoder error would be a bug in a collector, and
    // a truncated exposition is refused whole by Prometheus, so say so in one valid line.
    if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
        out.clear();
        out.push_str("# EOF\n");
    }
    out
}

pub(crate) struct Scrape {
    metrics: Metrics,
    pub(crate) snapshot: Snapshot,
}

impl std::fmt::Debug for Scrape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrape")
    }
}

struct Names(Vec<Arc<str>>);

impl Names {
    fn get(&self, s: Sym) -> &str {
        self.0.get(s.0 as usize).map_or(crate::OTHER, |n| n)
    }
}

pub(crate) fn counters<V: EncodeCounterValue>(
    enc: &mut DescriptorEncoder,
    (name, help, unit): (&str, &str, Option<&Unit>),
    rows: &[(Labels<'_>, V)],
) -> Result<(), std::fmt::Error> {
    let mut m = enc.encode_descriptor(name, help, unit, MetricType::Counter)?;
    for (labels, v) in rows {
        m.encode_family(labels)?
            .encode_counter::<NoLabelSet, _, u64>(v, None)?;
    }
    Ok(())
}

pub(crate) fn gauges<V: EncodeGaugeValue>(
    enc: &mut DescriptorEncoder,
    (name, help, unit): (&str, &str, Option<&Unit>),
    rows: &[(Labels<'_>, V)],
) -> Result<(), std::fmt::Error> {
    let mut m = enc.encode_descriptor(name, help, unit, MetricType::Gauge)?;
    for (labels, v) in rows {
        m.encode_family(labels)?.encode_gauge(v)?;
    }
    Ok(())
}

fn histograms(
    enc: &mut DescriptorEncoder,
    (name, help, unit): (&str, &str, Option<&Unit>),
    rows: &[(Labels<'_>, &Histogram)],
) -> Result<(), std::fmt::Error> {
    let mut m = enc.encode_descriptor(name, help, unit, MetricType::Histogram)?;
    for (labels, h) in rows {
        h.encode(m.encode_family(labels)?)?;
    }
    Ok(())
}

fn usd(nanos: u64) -> f64 {
    nanos as f64 / 1e9
}

impl Collector for Scrape {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let inner = &self.metrics.inner;
        let names = Names(inner.labels.names());
        self.requests(&mut enc, &names)?;
        self.genai(&mut enc, &names)?;
        let stages: Vec<(Labels<'_>, &Histogram)> = inner
            .stages
            .iter()
            .copied()
            .chain(std::iter::once("total"))
            .zip(inner.stage_times.iter())
            .map(|(s, h)| (vec![("stage", s)], h))
            .collect();
        let seconds = Unit::Seconds;
        histograms(
            &mut enc,
            (
                "switchyard_overhead",
                "Time spent in each pipeline stage; `total` is the request's overhead (wall time minus upstream waits). `execute` includes the upstream wait until the answer's headers.",
                Some(&seconds),
            ),
            &stages,
        )?;
        let cache = snapshot(&inner.cache);
        let mut rows = Vec::new();
        for (route, cell) in &cache {
            for (i, r) in CACHE_RESULTS.iter().enumerate() {
                rows.push((
                    vec![("route", names.get(*route)), ("result", *r)],
                    cell[i].load(Ordering::Relaxed),
                ));
            }
        }
        counters(
            &mut enc,
            (
                "switchyard_cache_requests",
                "Requests on routes with a response cache, by how the cache answered.",
                None,
            ),
            &rows,
        )?;
        histograms(
            &mut enc,
            (
                "switchyard_ledger_flush_duration",
                "Time the ledger writer took to commit one batch to the store.",
                Some(&seconds),
            ),
            &[(vec![], &inner.flush)],
        )?;
        self.scraped(&mut enc)
    }
}

impl Scrape {
    fn requests(&self, enc: &mut DescriptorEncoder, names: &Names) -> Result<(), std::fmt::Error> {
        let series = snapshot(&self.metrics.inner.requests.series);
        let labels = |k: &SeriesKey| -> Labels<'_> {
            vec![
                ("route", names.get(k.route)),
                ("provider", names.get(k.provider)),
                ("model", names.get(k.model)),
                ("workload", names.get(k.workload)),
            ]
        };
        let rows: Vec<(Labels<'_>, u64)> = series
            .iter()
            .map(|(k, s)| {
                let mut l = labels(k);
                l.push(("outcome", OUTCOMES[k.outcome as usize]));
                (l, s.requests())
            })
            .collect();
        counters(
            enc,
            (
                "switchyard_requests",
                "Requests by route, answering provider and model, workload and outcome (production traffic; shadow calls are apart).",
                None,
            ),
            &rows,
        )?;
        // Cost and savings without the outcome label: summed over outcomes.
        let mut cost: BTreeMap<(Sym, Sym, Sym, Sym), u64> = BTreeMap::new();
        let mut saved: BTreeMap<(Sym, Sym, usize), u64> = BTreeMap::new();
        let mut over: BTreeMap<(Sym, Sym), u64> = BTreeMap::new();
        for (k, s) in &series {
            *cost
                .entry((k.route, k.provider, k.model, k.workload))
                .or_default() += s.cost_nanos.load(Ordering::Relaxed);
            for (i, n) in s.saved_nanos.iter().enumerate() {
                *saved.entry((k.route, k.workload, i)).or_default() += n.load(Ordering::Relaxed);
            }
            *over.entry((k.route, k.workload)).or_default() +=
                s.overspend_nanos.load(Ordering::Relaxed);
        }
        let dollars = Unit::Other("usd".into());
        let rows: Vec<(Labels<'_>, f64)> = cost
            .iter()
            .map(|((r, p, m, w), n)| {
                let l = vec![
                    ("route", names.get(*r)),
                    ("provider", names.get(*p)),
                    ("model", names.get(*m)),
                    ("workload", names.get(*w)),
                ];
                (l, usd(*n))
            })
            .collect();
        counters(
            enc,
            (
                "switchyard_cost",
                "Spend in US dollars, priced by the catalog as the ledger records it.",
                Some(&dollars),
            ),
            &rows,
        )?;
        let rows: Vec<(Labels<'_>, f64)> = saved
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|((r, w, lever), n)| {
                let l = vec![
                    ("route", names.get(*r)),
                    ("workload", names.get(*w)),
                    ("lever", LEVERS[*lever]),
                ];
                (l, usd(*n))
            })
            .collect();
        counters(
            enc,
            (
                "switchyard_saved",
                "What each lever saved in US dollars: exact and semantic cache hits, provider batch discounts, cascade answers below the top tier, lowest-cost picks below the route's baseline target.",
                Some(&dollars),
            ),
            &rows,
        )?;
        let rows: Vec<(Labels<'_>, f64)> = over
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|((r, w), n)| {
                (
                    vec![("route", names.get(*r)), ("workload", names.get(*w))],
                    usd(*n),
                )
            })
            .collect();
        counters(
            enc,
            (
                "switchyard_routing_overspend",
                "Lowest-cost picks that cost more than the route's baseline target would have, in US dollars (the routing lever's negative side).",
                Some(&dollars),
            ),
            &rows,
        )?;
        let shadow = snapshot(&self.metrics.inner.requests.shadow);
        let calls: Vec<(Labels<'_>, u64)> = shadow
            .iter()
            .map(|(r, c)| (vec![("route", names.get(*r))], c[0].load(Ordering::Relaxed)))
            .collect();
        counters(
            enc,
            (
                "switchyard_shadow_calls",
                "Shadow (evaluation) calls recorded, by the route they mirrored.",
                None,
            ),
            &calls,
        )?;
        let spend: Vec<(Labels<'_>, f64)> = shadow
            .iter()
            .map(|(r, c)| {
                (
                    vec![("route", names.get(*r))],
                    usd(c[1].load(Ordering::Relaxed)),
                )
            })
            .collect();
        counters(
            enc,
            (
                "switchyard_shadow_cost",
                "Spend of shadow calls in US dollars (not in switchyard_cost_usd_total).",
                Some(&dollars),
            ),
            &spend,
        )
    }

    fn genai(&self, enc: &mut DescriptorEncoder, names: &Names) -> Result<(), std::fmt::Error> {
        let inner = &self.metrics.inner.requests;
        let labels = |k: &GenAiKey| -> Labels<'_> {
            vec![
                ("gen_ai_operation_name", OPERATIONS[k.op as usize]),
                ("gen_ai_provider_name", names.get(k.provider)),
                ("gen_ai_request_model", names.get(k.request)),
                ("gen_ai_response_model", names.get(k.response)),
            ]
        };
        let genai = snapshot(&inner.genai);
        let mut tokens = Vec::new();
        for (k, g) in &genai {
            for (i, t) in TOKEN_TYPES.iter().enumerate() {
                if g.tokens[i].count() > 0 {
                    let mut l = labels(k);
                    l.push(("gen_ai_token_type", *t));
                    tokens.push((l, &g.tokens[i]));
                }
            }
        }
        histograms(
            enc,
            (
                "gen_ai_client_token_usage",
                "Tokens used per request, by token type (disjoint: input excludes cached_input and cache_write; output excludes reasoning).",
                None,
            ),
            &tokens,
        )?;
        let durations = snapshot(&inner.durations);
        let rows: Vec<(Labels<'_>, &Histogram)> = durations
            .iter()
            .map(|((k, outcome), h)| {
                let mut l = labels(k);
                if *outcome > 1 {
                    l.push(("error_type", OUTCOMES[*outcome as usize]));
                }
                (l, &**h)
            })
            .collect();
        let seconds = Unit::Seconds;
        histograms(
            enc,
            (
                "gen_ai_client_operation_duration",
                "Request duration as the client saw it, from arrival to the last byte.",
                Some(&seconds),
            ),
            &rows,
        )?;
        let pick = |f: fn(&crate::requests::GenAi) -> &Histogram| -> Vec<(Labels<'_>, &Histogram)> {
            genai
                .iter()
                .filter(|(_, g)| f(g).count() > 0)
                .map(|(k, g)| (labels(k), f(g)))
                .collect()
        };
        histograms(
            enc,
            (
                "gen_ai_server_time_to_first_token",
                "Time to the first output token of successful streamed answers.",
                Some(&seconds),
            ),
            &pick(|g| &g.ttft),
        )?;
        histograms(
            enc,
            (
                "gen_ai_server_time_per_output_token",
                "Time per output token after the first, of successful streamed answers.",
                Some(&seconds),
            ),
            &pick(|g| &g.tpot),
        )
    }
}
