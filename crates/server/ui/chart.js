// Charts drawn as SVG: a stacked bar chart over days, a scatter plot and a timeline. Each has
// labelled axes with units, a legend, and a tooltip on hover (the shared #tooltip element).
import { el, svg, usd } from './api.js';

const COLORS = ['#2557d6', '#e67e22', '#16a085', '#8e44ad', '#c0392b', '#7f8c8d', '#d4ac0d', '#2c3e50', '#27ae60', '#e84393'];
export const color = (i) => COLORS[i % COLORS.length];
/// The drawing width: narrower on a phone, so text keeps a readable size when scaled.
const width = () => (window.innerWidth < 700 ? 420 : 760);

function tip(node, text) {
  const t = document.getElementById('tooltip');
  node.addEventListener('mousemove', (ev) => {
    t.textContent = text;
    t.hidden = false;
    t.style.left = `${Math.min(ev.clientX + 12, window.innerWidth - 220)}px`;
    t.style.top = `${ev.clientY + 12}px`;
  });
  node.addEventListener('mouseleave', () => { t.hidden = true; });
  node.append(svg('title', {}, text));
}

/// Round numbers for an axis from 0 to at least `max`.
function ticks(max, n = 4) {
  if (!(max > 0)) return [0, 1];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v <= max + step * 0.999; v += step) out.push(+v.toPrecision(12));
  return out;
}

function legend(names) {
  return el('div', { class: 'legend' }, names.map((n, i) => el('span', {}, el('i', { style: `background:${color(i)}` }), n)));
}

/// Days × groups, stacked: `points` = [{day, key, value}], `fmt` formats a value (the unit).
export function stackedBars(points, { days, fmt = usd, yLabel = 'USD per day' }) {
  const groups = [...new Set(points.map((p) => p.key))].sort();
  const W = width(), H = 260, L = 64, R = 10, T = 10, B = 36;
  const totals = days.map((d) => points.filter((p) => p.day === d).reduce((a, p) => a + p.value, 0));
  const yt = ticks(Math.max(...totals, 0));
  const top = yt[yt.length - 1] || 1;
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const bw = (W - L - R) / Math.max(days.length, 1);
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': yLabel });
  for (const v of yt) {
    g.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    g.append(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  }
  g.append(svg('text', { x: 12, y: T + (H - T - B) / 2, transform: `rotate(-90 12 ${T + (H - T - B) / 2})`, 'text-anchor': 'middle' }, yLabel));
  days.forEach((d, i) => {
    let acc = 0;
    groups.forEach((k, gi) => {
      const p = points.find((q) => q.day === d && q.key === k);
      if (!p || !p.value) return;
      const rect = svg('rect', { x: L + i * bw + bw * 0.12, width: bw * 0.76, y: y(acc + p.value), height: y(acc) - y(acc + p.value), fill: color(gi), 'data-day': d, 'data-key': k });
      tip(rect, `${d}\n${k}: ${fmt(p.value)}\nday total: ${fmt(totals[i])}`);
      g.append(rect);
      acc += p.value;
    });
    const every = Math.ceil(days.length / (W < 500 ? 4 : 8));
    if (i % every === 0) g.append(svg('text', { x: L + i * bw + bw / 2, y: H - B + 14, 'text-anchor': 'middle' }, d.slice(5)));
  });
  g.append(svg('line', { x1: L, x2: W - R, y1: y(0), y2: y(0), class: 'axis' }));
  g.append(svg('line', { x1: L, x2: L, y1: T, y2: y(0), class: 'axis' }));
  g.append(svg('text', { x: (L + W) / 2, y: H - 4, 'text-anchor': 'middle' }, 'day (UTC, MM-DD)'));
  return el('div', {}, g, legend(groups));
}

/// Points [{x, y, label}] on linear axes.
export function scatter(points, { xLabel, yLabel, xFmt = usd, yFmt = String, yMax }) {
  const W = width(), H = 280, L = 64, R = 16, T = 12, B = 38;
  const xt = ticks(Math.max(...points.map((p) => p.x), 0));
  const yt = ticks(yMax ?? Math.max(...points.map((p) => p.y), 0));
  const xm = xt[xt.length - 1] || 1, ym = yt[yt.length - 1] || 1;
  const x = (v) => L + (W - L - R) * (v / xm);
  const y = (v) => T + (H - T - B) * (1 - v / ym);
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `${yLabel} against ${xLabel}` });
  for (const v of yt) {
    g.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    g.append(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, yFmt(v)));
  }
  for (const v of xt) g.append(svg('text', { x: x(v), y: H - B + 14, 'text-anchor': 'middle' }, xFmt(v)));
  g.append(svg('line', { x1: L, x2: W - R, y1: y(0), y2: y(0), class: 'axis' }));
  g.append(svg('line', { x1: L, x2: L, y1: T, y2: y(0), class: 'axis' }));
  g.append(svg('text', { x: (L + W) / 2, y: H - 4, 'text-anchor': 'middle' }, xLabel));
  g.append(svg('text', { x: 12, y: H / 2, transform: `rotate(-90 12 ${H / 2})`, 'text-anchor': 'middle' }, yLabel));
  const placed = [];
  points.forEach((p, i) => {
    const c = svg('circle', { cx: x(p.x), cy: y(p.y), r: 7, fill: color(i), 'fill-opacity': 0.8, 'data-label': p.label });
    tip(c, `${p.label}\n${xLabel}: ${xFmt(p.x)}\n${yLabel}: ${yFmt(p.y)}`);
    g.append(c);
    // Labels of nearby points are moved down until they no longer overlap.
    const clash = (ly) => placed.some(([px, py]) => Math.abs(px - x(p.x)) < 110 && Math.abs(py - ly) < 12);
    let ly = y(p.y) + 4;
    for (let step = 1; clash(ly) && step < 20; step++) {
      // Alternately below and above the point, never under the x axis.
      const d = Math.ceil(step / 2) * 12 * (step % 2 ? 1 : -1);
      const next = y(p.y) + 4 + d;
      ly = next > y(0) - 2 ? y(p.y) + 4 - Math.ceil(step / 2) * 12 : next;
    }
    placed.push([x(p.x), ly]);
    g.append(svg('text', { x: x(p.x) + 10, y: ly }, p.label));
  });
  return el('div', {}, g, legend(points.map((p) => p.label)));
}

/// Events [{date: 'YYYY-MM-DD', label, detail}] on a time axis from today.
export function timeline(events, today) {
  const W = width(), L = 16, R = 16, rowH = 26;
  const H = 40 + rowH * events.length;
  const t = (d) => Date.parse(`${d}T00:00:00Z`);
  const dates = events.map((e) => t(e.date)).concat([t(today)]);
  const lo = Math.min(...dates), hi = Math.max(...dates, lo + 86400000);
  const x = (v) => L + (W - L - R) * ((v - lo) / (hi - lo));
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'retirement dates' });
  g.append(svg('line', { x1: L, x2: W - R, y1: 20, y2: 20, class: 'axis' }));
  g.append(svg('line', { x1: x(t(today)), x2: x(t(today)), y1: 12, y2: H, stroke: '#c0392b', 'stroke-dasharray': '4 3' }));
  g.append(svg('text', { x: x(t(today)) + 4, y: 12 }, `today ${today}`));
  g.append(svg('text', { x: L, y: 34 }, new Date(lo).toISOString().slice(0, 10)));
  g.append(svg('text', { x: W - R, y: 34, 'text-anchor': 'end' }, new Date(hi).toISOString().slice(0, 10)));
  events.forEach((e, i) => {
    const cy = 50 + rowH * i;
    const c = svg('circle', { cx: x(t(e.date)), cy, r: 6, fill: color(i) });
    tip(c, `${e.label}\nretires ${e.date}\n${e.detail}`);
    g.append(c);
    const right = x(t(e.date)) > W * 0.6;
    g.append(svg('text', { x: x(t(e.date)) + (right ? -10 : 10), y: cy + 4, 'text-anchor': right ? 'end' : 'start' }, `${e.label} — ${e.date}`));
  });
  return g;
}
