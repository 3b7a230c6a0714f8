// The dashboard's one door to the gateway: every call sends the signed-in key as a bearer
// token and turns an error body ({"error":{"message"}}) into an Error with that message.
const STORE = 'switchyard.key';

export const key = {
  get: () => sessionStorage.getItem(STORE),
  set: (k) => sessionStorage.setItem(STORE, k),
  clear: () => sessionStorage.removeItem(STORE),
};

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

/// `body` is sent as JSON, `raw` as text (the contract offers' TOML).
export async function call(path, { method = 'GET', body, raw, text = false } = {}) {
  const headers = { Authorization: `Bearer ${key.get() || ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (raw !== undefined) headers['Content-Type'] = 'application/toml';
  const payload = raw !== undefined ? raw : (body === undefined ? undefined : JSON.stringify(body));
  const res = await fetch(path, { method, headers, body: payload });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try { message = (await res.json()).error.message || message; } catch (_) { /* not JSON */ }
    throw new ApiError(res.status, message);
  }
  return text ? res.text() : res.json();
}

/// `path?…` with the non-empty members of `params`.
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export const usd = (v) => {
  const n = Number(v || 0);
  const text = Math.abs(n).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return n < 0 && text !== '0.00' ? `-$${text}` : `$${text}`;
};
export const num = (v) => Number(v || 0).toLocaleString('en-US');
export const pct = (v) => `${(Number(v || 0) * 100).toFixed(1)}%`;
export const ms = (v) => (v === null || v === undefined ? '–' : `${Number(v).toFixed(0)} ms`);

/// An element: `el('td', {class: 'num'}, 'text', child…)`.
export function el(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

/// An SVG element, as `el`.
export function svg(tag, attrs = {}, ...children) {
  return fill(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);
}

function fill(e, attrs, children) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    // Styles through the CSSOM: the content security policy refuses style attributes.
    if (k === 'style') e.style.cssText = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

/// A table of `rows` with `cols` = [[header, row => cell, numeric?], …].
export function table(cols, rows, empty = 'Nothing recorded yet.') {
  if (!rows.length) return el('p', { class: 'muted' }, empty);
  return el('table', {},
    el('thead', {}, el('tr', {}, cols.map(([h, , n]) => el('th', { class: n ? 'num' : null }, h)))),
    el('tbody', {}, rows.map((r) => el('tr', {}, cols.map(([, f, n]) => el('td', { class: n ? 'num' : null }, f(r)))))));
}

export const card = (title, ...children) => el('section', { class: 'card' }, el('h2', {}, title), ...children);
export const tile = (label, value, id) => el('div', { class: 'tile' }, el('div', { class: 'label' }, label), el('div', { class: 'value', 'data-figure': id }, value));
