// Overview, recent requests and keys: the pages both a master key and a virtual key open
// (a virtual key's figures are its own; the server restricts them, not this code).
import { call, withQuery, el, table, card, tile, usd, num, pct, ms } from './api.js';
import { stackedBars } from './chart.js';

function lastDays(today, n) {
  const end = Date.parse(`${today}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => new Date(end - (n - 1 - i) * 86400000).toISOString().slice(0, 10));
}

export async function overview(root, session, by = 'provider') {
  const o = await call(withQuery('/v1/dashboard/overview', { by, days: 30 }));
  const points = o.series.map((p) => ({ day: p.day, key: p.key, value: Number(p.cost_usd) }));
  const switcher = el('div', { class: 'switch' }, ['provider', 'workload', 'team'].map((b) =>
    el('button', { type: 'button', class: b === by ? null : 'secondary', 'data-by': b, onclick: () => overview(root, session, b) }, `by ${b}`)));
  const savings = o.savings
    ? card('Savings by lever (30 days)', tile('saved', usd(o.savings.saved_usd), 'saved'),
      table([
        ['lever', (l) => l.lever],
        ['requests', (l) => (l.requests === null ? '–' : num(l.requests)), true],
        ['saved', (l) => (l.measured ? usd(l.saved_usd) : 'not measured'), true],
      ], o.savings.levers))
    : null;
  root.replaceChildren(
    el('h1', {}, session.view === 'key' ? `Your spend (key ${o.key_id})` : 'Overview'),
    el('div', { class: 'tiles' },
      tile('spend today (UTC)', usd(o.spend_today), 'spend_today'),
      tile('spend, last 7 days', usd(o.spend_7d), 'spend_7d'),
      tile('spend, last 30 days', usd(o.spend_30d), 'spend_30d'),
      tile('run rate (per month, from 7 days)', usd(o.run_rate_monthly), 'run_rate'),
      tile('requests, 30 days', num(o.requests), 'requests'),
      tile('error rate', pct(o.error_rate), 'error_rate'),
      tile('latency p50 / p95 (24 h)', `${ms(o.latency_24h.p50_ms)} / ${ms(o.latency_24h.p95_ms)}`, 'latency'),
      tile('gateway overhead (mean)', `${Number(o.avg_overhead_us).toFixed(0)} µs`, 'overhead')),
    card(`Spend per day by ${by}, last 30 days`, switcher, stackedBars(points, { days: lastDays(o.today, 30) })),
    savings);
}

const FILTERS = ['route', 'workload', 'team', 'key', 'status', 'from', 'until'];

export async function requests(root, session, filters = {}, after = null, pageNo = 1) {
  const q = { ...filters, limit: 25, after };
  const page = await call(withQuery('/v1/dashboard/requests', q));
  const form = el('form', { class: 'filters', id: 'request-filters' },
    FILTERS.filter((f) => !(f === 'key' && session.view === 'key')).map((f) =>
      el('label', {}, f, el('input', { name: f, value: filters[f] || '', placeholder: f === 'status' ? 'ok, error or 429' : (f === 'from' || f === 'until' ? 'YYYY-MM-DD' : '') }))),
    el('button', { type: 'submit' }, 'Filter'));
  const error = el('p', { class: 'error', role: 'alert' });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries([...new FormData(form)].filter(([, v]) => v !== ''));
    try { await requests(root, session, f); } catch (e) { error.textContent = e.message; }
  });
  const next = page.next
    ? el('button', { type: 'button', id: 'next-page', onclick: () => requests(root, session, filters, page.next, pageNo + 1) }, page.partial ? 'Search older requests →' : 'Next page →')
    : el('span', { class: 'muted' }, 'Last page.');
  // A rare filter: the server searched a bounded slice of history for this page.
  const partial = page.partial ? el('p', { class: 'muted', id: 'partial-page' }, 'Only the newest part of the history was searched for this page; older requests may match too.') : null;
  root.replaceChildren(
    el('h1', {}, 'Recent requests'),
    card('Filters', form, error),
    card(`Page ${pageNo}`, table([
      ['time (UTC)', (r) => r.ts.replace('T', ' ').slice(0, 19)],
      ['route', (r) => r.route], ['workload', (r) => r.workload || '–'], ['team', (r) => r.team || '–'],
      ['key', (r) => r.key_id || '–'], ['target', (r) => (r.provider ? `${r.provider}/${r.model}` : '–')],
      ['status', (r) => el('span', { class: r.status >= 400 ? 'error' : null }, r.status)],
      ['tokens in/out', (r) => `${num(r.input_tokens)} / ${num(r.output_tokens)}`, true],
      ['cost', (r) => (r.cost_usd === null ? '–' : `$${Number(r.cost_usd).toFixed(4)}`), true],
      ['latency', (r) => ms(r.latency_ms), true],
      ['cache', (r) => r.cache || ''],
    ], page.rows, page.partial ? 'No match among the requests searched so far.' : 'No request matches.'), partial, el('p', {}, next)));
}

/// Each budget's spend against its limit, and the rate limits with their headroom.
function limits(k) {
  const u = k.usage;
  const parts = (u?.budgets ?? k.budgets ?? []).map((b) =>
    `${b.period}: ${usd(b.spent_usd ?? 0)} of ${usd(b.limit_usd)}${b.hard === false ? ' (soft)' : ''}`);
  if (k.rpm) parts.push(`${num(k.rpm)} req/min${u?.requests_remaining != null ? ` (${num(u.requests_remaining)} left)` : ''}`);
  if (k.tpm) parts.push(`${num(k.tpm)} tokens/min${u?.tokens_remaining != null ? ` (${num(u.tokens_remaining)} left)` : ''}`);
  return parts.length ? parts.join('; ') : 'none';
}

export async function keys(root, session) {
  const { data } = await call('/v1/dashboard/keys');
  const notice = el('div', { id: 'key-notice' });
  const admin = session.view === 'master';
  const act = (k) => (admin && !k.revoked_at ? el('span', {},
    el('button', { type: 'button', class: 'secondary', 'data-rotate': k.id, onclick: () => change(root, session, notice, `/admin/keys/${k.id}/rotate`) }, 'Rotate'), ' ',
    el('button', { type: 'button', class: 'danger', 'data-revoke': k.id, onclick: () => change(root, session, notice, `/admin/keys/${k.id}/revoke`) }, 'Revoke')) : '');
  const create = admin ? card('Create a key', createForm(root, session, notice)) : null;
  root.replaceChildren(
    el('h1', {}, admin ? 'Keys and budgets' : 'Your key'),
    notice,
    card('Keys', table([
      ['id', (k) => k.id], ['name', (k) => k.name || '–'], ['team', (k) => k.team || '–'],
      ['status', (k) => (k.revoked_at ? el('span', { class: 'pill open' }, 'revoked') : el('span', { class: 'pill closed' }, 'active'))],
      ['expires', (k) => (k.expires_at ? k.expires_at.slice(0, 10) : 'never')],
      ['spend today', (k) => usd(k.spend_today), true], ['spend 30 d', (k) => usd(k.spend_30d), true],
      ['budgets and limits now', limits], ['', act],
    ], data, 'No virtual keys yet.')),
    create);
}

function createForm(root, session, notice) {
  const form = el('form', { class: 'filters', id: 'create-key' },
    el('label', {}, 'name', el('input', { name: 'name', required: true })),
    el('label', {}, 'team', el('input', { name: 'team' })),
    el('label', {}, 'monthly budget (USD)', el('input', { name: 'budget', inputmode: 'decimal' })),
    el('button', { type: 'submit' }, 'Create'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(form));
    const spec = { name: f.name };
    if (f.team) spec.team = f.team;
    if (f.budget) spec.budgets = [{ period: 'month', limit_usd: f.budget }];
    await change(root, session, notice, '/admin/keys', spec);
  });
  return form;
}

async function change(root, session, notice, path, body = {}) {
  try {
    const r = await call(path, { method: 'POST', body });
    await keys(root, session);
    const shown = document.getElementById('key-notice');
    if (r.key) shown.replaceChildren(card('New secret (shown once)', el('p', {}, r.note), el('div', { class: 'secret', id: 'new-secret' }, r.key)));
    else shown.replaceChildren(el('p', { class: 'muted' }, `Key ${r.key_info.id} revoked.`));
  } catch (e) {
    notice.replaceChildren(el('p', { class: 'error', role: 'alert' }, e.message));
  }
}
