// Traffic (per route and target, breakers) and Evaluation (datasets, runs, shadow results,
// readiness): the operator's pages, master key only.
import { call, withQuery, el, table, card, usd, num, pct, ms } from './api.js';

const rateCols = (first) => [
  [first, (r) => r.key],
  ['requests', (r) => num(r.requests), true],
  ['req/min', (r) => Number(r.requests_per_min).toFixed(2), true],
  ['errors', (r) => num(r.errors), true],
  ['error rate', (r) => pct(r.error_rate), true],
  ['mean latency', (r) => ms(r.avg_latency_ms), true],
  ['mean TTFT', (r) => ms(r.avg_ttft_ms), true],
  ['overhead', (r) => `${Number(r.avg_overhead_us).toFixed(0)} µs`, true],
  ['cost', (r) => usd(r.cost_usd), true],
];

export async function traffic(root, _session, days = 1) {
  const t = await call(withQuery('/v1/dashboard/traffic', { days }));
  const targets = t.live.flatMap((r) => r.targets.map((x) => ({ route: r.name, strategy: r.strategy, ...x })));
  const pick = el('select', { id: 'traffic-days', onchange: (e) => traffic(root, _session, e.target.value) },
    [1, 7, 30].map((d) => el('option', { value: d, selected: Number(days) === d }, d === 1 ? 'today' : `last ${d} days`)));
  root.replaceChildren(
    el('h1', {}, 'Traffic'),
    el('p', {}, 'Window: ', pick, el('span', { class: 'muted' }, ' (UTC days, from the ledger; breakers are live)')),
    card('Per route', table(rateCols('route'), t.routes)),
    card('Per target', table(rateCols('provider/model'), t.targets)),
    card('Breakers (live)', table([
      ['route', (r) => r.route], ['strategy', (r) => r.strategy], ['target', (r) => `${r.provider}/${r.model}`],
      ['breaker', (r) => el('span', { class: `pill ${r.breaker}` }, r.breaker)],
      ['in window', (r) => `${num(r.requests_in_window)} req, ${num(r.failures_in_window)} failed`, true],
      ['latency (EWMA)', (r) => ms(r.latency_ewma_ms), true],
      ['opened', (r) => num(r.opened_total), true],
    ], targets, 'No routes configured.')));
}

const f3 = (v) => (v === null || v === undefined ? '–' : Number(v).toFixed(3));

export async function evaluation(root) {
  const e = await call('/v1/dashboard/evaluation');
  root.replaceChildren(
    el('h1', {}, 'Evaluation'),
    card('Readiness per workload and candidate', table([
      ['workload', (r) => r.workload], ['candidate', (r) => r.candidate],
      ['verdict', (r) => el('span', { class: `pill ${r.passed ? 'PASS' : 'FAIL'}` }, r.passed ? 'ready' : 'not ready')],
      ['samples', (r) => num(r.samples), true],
      ['score Δ', (r) => f3(r.mean_diff), true],
      ['95% CI', (r) => `[${f3(r.ci_low)}, ${f3(r.ci_high)}]`, true],
      ['cost Δ', (r) => (r.cost_delta === null || r.cost_delta === undefined ? '–' : `${r.cost_delta >= 0 ? '+' : ''}${pct(r.cost_delta)}`), true],
      ['from', (r) => r.source],
    ], e.readiness, 'No evidence yet: run `switchyard eval run` or enable shadow traffic.')),
    card('Replay runs (latest per workload and candidate)', table([
      ['created', (r) => r.created.slice(0, 16).replace('T', ' ')], ['dataset', (r) => r.dataset_id],
      ['candidate', (r) => r.candidate], ['baseline', (r) => r.baseline],
      ['verdict', (r) => el('span', { class: `pill ${r.verdict}` }, r.verdict)],
      ['items', (r) => num(r.summary?.n), true],
      ['score Δ', (r) => f3(r.summary?.mean_diff), true],
      ['95% CI', (r) => `[${f3(r.summary?.ci_low)}, ${f3(r.summary?.ci_high)}]`, true],
    ], e.runs, 'No replay runs yet.')),
    card('Shadow results (30 days)', table([
      ['workload', (r) => r.workload || '–'], ['candidate', (r) => r.candidate],
      ['samples', (r) => num(r.candidate_scores.length), true],
      // Sums of a few requests' costs: often under a cent.
      ['primary cost', (r) => `$${Number(r.primary_cost_usd).toFixed(4)}`, true],
      ['candidate cost', (r) => `$${Number(r.candidate_cost_usd).toFixed(4)}`, true],
      ['last', (r) => (r.last ? r.last.slice(0, 16).replace('T', ' ') : '–')],
    ], e.shadow, 'No shadow traffic recorded.')),
    card('Datasets', table([
      ['id', (d) => d.id], ['workload', (d) => d.workload || '–'], ['items', (d) => num(d.item_count), true],
      ['source', (d) => d.source], ['created', (d) => d.created.slice(0, 10)],
    ], e.datasets, 'No datasets yet: `switchyard eval dataset create`.')));
}
