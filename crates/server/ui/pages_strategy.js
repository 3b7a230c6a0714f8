// Strategy: the lock-in map, deprecations on a timeline, the price-shock simulator (run by
// the server's strategy engine) and the vendor-strategy report (view and download).
import { call, withQuery, el, table, card, usd, pct } from './api.js';
import { scatter, timeline } from './chart.js';

export async function strategy(root) {
  const [rep, dep] = await Promise.all([call('/v1/strategy/report'), call('/v1/strategy/deprecations')]);
  const points = rep.workloads.map((w) => ({ x: Number(w.spend_30d), y: w.lockin, label: w.workload }));
  const dated = dep.filter((d) => d.retirement);
  const providers = [...new Set(Object.values(rep.weekly_by_provider || {}).flatMap((w) => Object.keys(w))
    .concat(rep.main_vendor ? [rep.main_vendor] : []))].sort();
  const shockOut = el('div', { id: 'shock-result' });
  root.replaceChildren(
    el('h1', {}, 'Strategy'),
    card('Lock-in map (each workload: 30-day spend against lock-in score)',
      points.length ? scatter(points, { xLabel: 'spend, last 30 days (USD)', yLabel: 'lock-in score (0–100)', yMax: 100 }) : el('p', { class: 'muted' }, 'No traffic yet.')),
    card('Deprecations', dated.length ? timeline(dated.map((d) => ({
      date: d.retirement, label: `${d.workload}: ${d.provider}/${d.model}`,
      detail: `successor ${d.successor || 'none'}; cost delta ${d.cost_delta_30d === null ? '–' : usd(d.cost_delta_30d)} per 30 days`,
    })), rep.generated) : null, table([
      ['workload', (d) => d.workload], ['model', (d) => `${d.provider}/${d.model}`], ['retires', (d) => d.retirement || '–'],
      ['days left', (d) => d.days_left ?? '–', true], ['spend 30 d', (d) => usd(d.spend_30d), true],
      ['successor', (d) => d.successor || '–'],
      ['successor cost delta (30 d)', (d) => (d.cost_delta_30d === null ? '–' : `${usd(d.cost_delta_30d)} (${pct(d.cost_delta_pct)})`), true],
      ['basis', (d) => d.cost_basis],
    ], dep, 'No workload uses a deprecated model.')),
    card('Price-shock simulator', shockForm(providers, rep.main_vendor, shockOut), shockOut),
    card('Contract offers side by side', contractsForm(rep.main_vendor || 'openai')),
    card('Vendor-strategy report', reportView()),
  );
}

function shockForm(providers, main, out) {
  const form = el('form', { class: 'filters', id: 'shock' },
    el('label', {}, 'provider', el('select', { name: 'provider' }, providers.map((p) => el('option', { value: p, selected: p === main }, p)))),
    el('label', {}, 'price factor', el('input', { name: 'factor', value: '2', inputmode: 'decimal', size: 5 })),
    el('button', { type: 'submit' }, 'Simulate'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(form));
    try {
      const r = await call(withQuery('/v1/dashboard/shock', f));
      const move = (m) => (m ? `${m.to}: ${usd(m.monthly_cost)}/mo (${m.evidence})` : '–');
      out.replaceChildren(
        el('p', {}, `If ${r.vendor} prices ×${f.factor}: `, el('strong', { 'data-figure': 'shock_increase' }, usd(r.monthly_increase)), ' more per month if nothing moves.'),
        table([
          ['workload', (w) => w.workload], ['now /mo', (w) => usd(w.now), true], ['if it stays /mo', (w) => usd(w.if_it_stays), true],
          ['extra /mo', (w) => usd(Number(w.if_it_stays) - Number(w.now)), true],
          ['proven move (plan)', (w) => move(w.plan)], ['candidates to evaluate', (w) => w.candidates.map(move).join('; ') || (w.stay ?? '–')],
        ], r.workloads, 'No workload uses this provider.'));
    } catch (e) {
      out.replaceChildren(el('p', { class: 'error', role: 'alert' }, e.message));
    }
  });
  return form;
}

function reportView() {
  const view = el('div', { id: 'report-view' });
  const show = async () => {
    const md = await call('/v1/dashboard/report?format=markdown', { text: true });
    view.replaceChildren(el('pre', { class: 'report' }, md));
  };
  const download = (format, name) => el('button', { type: 'button', class: 'secondary', onclick: async () => {
    const text = await call(`/v1/dashboard/report?format=${format}`, { text: true });
    const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: format === 'html' ? 'text/html' : 'text/markdown' })), download: name });
    document.body.append(a); a.click(); a.remove();
  } }, `Download ${format === 'html' ? 'HTML' : 'Markdown'}`);
  return el('div', {}, el('p', {},
    el('button', { type: 'button', id: 'report-show', onclick: show }, 'View'), ' ',
    download('markdown', 'vendor-strategy.md'), ' ', download('html', 'vendor-strategy.html')), view);
}

/// Two offers to start from, in the format of `switchyard strategy contract --file`
/// (docs/contracts.md); every figure is the server's simulation on this ledger.
function exampleOffers(provider) {
  const next = new Date();
  const start = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
  return `[[offers]]
name = "12-month minimum, 20 % off"
provider = "${provider}"
start = ${start}
term_months = 12
commit = { amount_usd = 800, period = "month", discount = 0.20, kind = "minimum" }

[[offers]]
name = "Annual drawdown, 10 % off"
provider = "${provider}"
start = ${start}
term_months = 12
commit = { amount_usd = 9000, period = "year", discount = 0.10, kind = "drawdown" }
`;
}

const CONTRACT_ROWS = [
  ['term (months)', (r) => r.term_months],
  ['on-demand cost', (r) => usd(r.on_demand_cost)],
  ['expected cost', (r) => usd(r.expected_cost)],
  ['P5 – P95 cost', (r) => `${usd(r.p5_cost)} – ${usd(r.p95_cost)}`],
  ['expected savings', (r) => usd(r.expected_savings)],
  ['effective savings rate', (r) => pct(r.effective_savings_rate)],
  ['commitment', (r) => usd(r.committed)],
  ['utilisation', (r) => (r.utilisation === null ? '–' : pct(r.utilisation))],
  ['expected waste', (r) => usd(r.waste)],
  ['overage exposure (P95)', (r) => usd(r.overage_p95)],
];

function contractsForm(provider) {
  const out = el('div', { id: 'contracts-result' });
  const text = el('textarea', { name: 'offers', rows: 12, class: 'offers', spellcheck: 'false' });
  text.value = exampleOffers(provider);
  const form = el('form', { id: 'contracts' }, el('label', { class: 'muted' }, 'Offers (TOML, as for `switchyard strategy contract --file`)'), text,
    el('p', {}, el('button', { type: 'submit' }, 'Compare')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const results = await call('/v1/dashboard/contracts', { method: 'POST', raw: text.value });
      out.replaceChildren(el('table', {},
        el('thead', {}, el('tr', {}, el('th', {}, ''), results.map((r) => el('th', { class: 'num' }, r.baseline ? 'on demand' : r.name)))),
        el('tbody', {}, CONTRACT_ROWS.map(([label, f]) => el('tr', {}, el('th', {}, label),
          results.map((r) => el('td', { class: 'num', 'data-offer': r.name }, f(r))))))));
    } catch (e) {
      out.replaceChildren(el('pre', { class: 'error', role: 'alert' }, e.message));
    }
  });
  return el('div', {}, form, out);
}
