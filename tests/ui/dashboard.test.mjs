// The dashboard in a real browser: sign in, open every page at desktop and phone width, check
// the figures shown against the CLI's for the same ledger, filter and page the requests, run
// the price-shock simulator, create and revoke a key, no console errors; screenshots are
// saved under target/ui-screenshots (UI_SCREENSHOTS overrides).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { gateway, cli, api, dollars, CHROMIUM, SHOTS, MASTER } from './harness.mjs';

let gw, browser, context, page;
const problems = [];

before(async () => {
  gw = await gateway();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
  gw?.stop();
});

const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const figure = async (id) => (await page.locator(`[data-figure="${id}"]`).textContent()).trim();
async function open(name) {
  await page.goto(`${gw.url}/ui#${name}`);
  await page.waitForSelector(`#page-${name}:not([data-loading])`);
  assert.equal(await page.locator(`#page-${name} [role=alert]:not(:empty)`).count(), 0, `${name} shows an error`);
}

test('a wrong key is refused on the sign-in form and the master key signs in', async () => {
  await page.goto(`${gw.url}/ui`);
  await page.fill('#key', 'not-the-key');
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#signin-error:not(:empty)');
  assert.match(await page.textContent('#signin-error'), /neither the master key nor a virtual key/);
  problems.length = 0; // the refused sign-in's 401 is logged by the browser, by design
  await page.fill('#key', MASTER);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#page-overview:not([data-loading])');
  assert.equal(await page.textContent('#who'), 'master key');
});

test('the overview shows the same 30-day spend and requests as `switchyard ledger summary`', async () => {
  await open('overview');
  const today = new Date().toISOString().slice(0, 10);
  const since = new Date(Date.parse(`${today}T00:00:00Z`) - 29 * 86400000).toISOString().slice(0, 10);
  const summary = cli('ledger', 'summary', '--by', 'day', '--since', since, '--ledger', gw.ledger);
  const requests = summary.rows.reduce((a, r) => a + r.requests, 0);
  const spend = summary.rows.reduce((a, r) => a + Number(r.cost_usd), 0);
  assert.equal(Number((await figure('requests')).replace(/,/g, '')), requests);
  // The CLI rounds each day to the cent, the overview the 30-day total.
  assert.ok(Math.abs(dollars(await figure('spend_30d')) - spend) <= 0.005 * summary.rows.length + 1e-9);
  assert.equal(dollars(await figure('saved')), Number(summary.savings_by_lever.saved_usd));
  const o = await api(gw.url, '/v1/dashboard/overview');
  assert.equal(await figure('spend_today'), `$${Number(o.spend_today).toFixed(2)}`);
  assert.ok(await page.locator('svg.chart rect[data-key="openai"]').count() > 0, 'stacked bars by provider');
  await page.click('button[data-by=workload]');
  await page.waitForSelector('svg.chart rect[data-key="support"]');
  await shot('overview');
});

test('traffic lists every route with the ledger figures and the live breakers', async () => {
  await open('traffic');
  const t = await api(gw.url, '/v1/dashboard/traffic?days=1');
  const routes = cli('ledger', 'summary', '--by', 'route', '--since', new Date().toISOString().slice(0, 10), '--ledger', gw.ledger);
  assert.deepEqual(t.routes.map((r) => [r.key, r.requests]).sort(), routes.rows.map((r) => [r.key, r.requests]).sort());
  const text = await page.textContent('#page-traffic');
  for (const r of routes.rows) assert.ok(text.includes(r.key), `route ${r.key} shown`);
  assert.ok(await page.locator('.pill.closed').count() > 0, 'breaker states shown');
  await shot('traffic');
});

test('recent requests filter by route and status and page with the cursor', async () => {
  await open('requests');
  await page.fill('#request-filters input[name=route]', 'support-chat');
  await page.fill('#request-filters input[name=status]', 'ok');
  await page.click('#request-filters button[type=submit]');
  // The filtered page replaces the unfiltered one: wait until every row shown is the route's.
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('#page-requests tbody tr td:nth-child(2)')];
    return cells.length > 0 && cells.every((c) => c.textContent === 'support-chat');
  });
  const routes = await page.$$eval('#page-requests tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
  assert.ok(routes.length > 0 && routes.every((r) => r === 'support-chat'), routes.join(','));
  const first = await page.textContent('#page-requests tbody tr:first-child');
  await page.click('#next-page');
  await page.waitForFunction((f) => document.querySelector('#page-requests tbody tr:first-child')?.textContent !== f, first);
  assert.equal(await page.textContent('#page-requests section:nth-of-type(2) h2'), 'Page 2');
  await page.fill('#request-filters input[name=route]', 'no-such-route');
  await page.click('#request-filters button[type=submit]');
  await page.waitForSelector('#page-requests [role=alert]:not(:empty)');
  assert.match(await page.textContent('#page-requests [role=alert]'), /`route`: no route "no-such-route"/);
  problems.length = 0; // the refused filter's 400 is logged by the browser, by design
  await shot('requests');
});

test('keys: a key created with a budget shows once, appears in the list, and is revoked', async () => {
  await open('keys');
  await page.fill('#create-key input[name=name]', 'ui-test');
  await page.fill('#create-key input[name=team]', 'qa');
  await page.fill('#create-key input[name=budget]', '25');
  await page.click('#create-key button[type=submit]');
  await page.waitForSelector('#new-secret');
  assert.match(await page.textContent('#new-secret'), /^sk-sy-/);
  const row = page.locator('#page-keys tbody tr', { hasText: 'ui-test' });
  assert.match(await row.textContent(), /month: \$0\.00 of \$25\.00/);
  const id = await row.locator('button[data-revoke]').getAttribute('data-revoke');
  await shot('keys');
  await row.locator('button[data-revoke]').click();
  await page.waitForSelector(`text=Key ${id} revoked.`);
  assert.match(await page.locator('#page-keys tbody tr', { hasText: id }).textContent(), /revoked/);
});

test('strategy: lock-in map, deprecations, a price shock and contract offers equal to the API, and the report', async () => {
  await open('strategy');
  assert.ok(await page.locator('svg.chart circle[data-label]').count() > 0, 'lock-in points');
  await page.selectOption('#shock select[name=provider]', 'openai');
  await page.fill('#shock input[name=factor]', '1.5');
  await page.click('#shock button[type=submit]');
  await page.waitForSelector('[data-figure=shock_increase]');
  const s = await api(gw.url, '/v1/dashboard/shock?provider=openai&factor=1.5');
  assert.equal(dollars(await figure('shock_increase')), Number(s.monthly_increase));
  assert.ok(Number(s.monthly_increase) > 0);
  await page.click('#contracts button[type=submit]');
  await page.waitForSelector('#contracts-result table');
  const offers = await page.inputValue('#contracts textarea');
  const sim = await fetch(`${gw.url}/v1/dashboard/contracts`, { method: 'POST', headers: { Authorization: `Bearer ${MASTER}` }, body: offers }).then((r) => r.json());
  const heads = await page.$$eval('#contracts-result thead th', (ths) => ths.map((t) => t.textContent));
  assert.deepEqual(heads.slice(1), sim.map((r) => (r.baseline ? 'on demand' : r.name)));
  const expected = await page.$$eval('#contracts-result tbody tr:nth-child(3) td', (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(expected.map(dollars), sim.map((r) => Number(Number(r.expected_cost).toFixed(2))));
  await page.click('#report-show');
  await page.waitForSelector('#report-view pre');
  assert.match(await page.textContent('#report-view pre'), /support/);
  await shot('strategy');
});

test('evaluation shows the readiness `switchyard eval readiness` reports', async () => {
  await open('evaluation');
  const ready = cli('eval', 'readiness', '--store', gw.ledger.replace(/\.db$/, '-eval.db'));
  assert.ok(ready.length > 0, 'the demo shadows extraction');
  for (const r of ready) {
    const row = page.locator('#page-evaluation section:first-of-type tbody tr', { hasText: r.candidate });
    const cells = await row.locator('td').allTextContents();
    assert.deepEqual(cells.slice(0, 4), [r.workload, r.candidate, r.passed ? 'ready' : 'not ready', String(r.samples)]);
  }
  await shot('evaluation');
});

test('a virtual key signs in to its own view: its spend, its key, no operator pages', async () => {
  const made = await fetch(`${gw.url}/admin/keys`, {
    method: 'POST', headers: { Authorization: `Bearer ${MASTER}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'self-service', budgets: [{ period: 'day', limit_usd: '3' }] }),
  }).then((r) => r.json());
  await page.click('#signout');
  await page.fill('#key', made.key);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#page-overview:not([data-loading])');
  assert.equal(await page.textContent('#who'), `key ${made.key_info.id}`);
  assert.match(await page.textContent('#page-overview h1'), new RegExp(made.key_info.id));
  assert.equal(await figure('spend_30d'), '$0.00');
  assert.equal(await page.locator('nav a[data-page=traffic]').isVisible(), false);
  await open('keys');
  const rows = await page.locator('#page-keys tbody tr').allTextContents();
  assert.equal(rows.length, 1);
  assert.match(rows[0], /day: \$0\.00 of \$3\.00/);
  assert.equal(await page.locator('#create-key').count(), 0, 'no key administration');
  await shot('virtual-key');
  await page.click('#signout');
  await page.fill('#key', MASTER);
  await page.click('#signin button[type=submit]');
  await page.waitForSelector('#page-keys:not([data-loading]) #create-key');
});

test('every page fits a phone-width screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const name of ['overview', 'traffic', 'requests', 'keys', 'strategy', 'evaluation']) {
    await open(name);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${name} is ${overflow}px wider than the phone screen`);
    await shot(`phone-${name}`);
  }
});

test('no console errors', () => {
  assert.deepEqual(problems, []);
});
