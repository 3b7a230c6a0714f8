// The dashboard's shell: sign-in, the navigation and the page router (`#overview`, …).
// A virtual key sees the pages not marked data-master; the server enforces it either way.
import { call, key, el } from './api.js';
import { overview, requests, keys } from './pages.js';
import { traffic, evaluation } from './pages_ops.js';
import { strategy } from './pages_strategy.js';

const PAGES = { overview, traffic, requests, keys, strategy, evaluation };
const main = document.getElementById('main');
const signin = document.getElementById('signin');
// The form leaves the document while a page is shown: reach its fields through it.
const keyInput = signin.querySelector('#key');
const signinError = signin.querySelector('#signin-error');
let session = null;

function showSignin(message = '') {
  key.clear();
  session = null;
  signinError.textContent = message;
  main.replaceChildren(signin);
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
}

async function start() {
  // Without a key there is nothing to ask the server.
  if (!key.get()) return showSignin();
  try {
    session = await call('/v1/dashboard/session');
  } catch (e) {
    return showSignin(e.message);
  }
  document.getElementById('nav').hidden = false;
  document.getElementById('signout').hidden = false;
  document.getElementById('who').textContent = session.view === 'master' ? 'master key' : `key ${session.key_id}`;
  for (const a of document.querySelectorAll('nav a[data-master]')) a.hidden = session.view !== 'master';
  await route();
}

async function route() {
  if (!session) return;
  let page = location.hash.slice(1) || 'overview';
  if (!PAGES[page] || (session.view !== 'master' && document.querySelector(`nav a[data-page="${page}"][data-master]`))) page = 'overview';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === page);
  const root = el('div', { id: `page-${page}`, 'data-loading': 'true' }, el('p', { class: 'muted' }, 'Loading…'));
  main.replaceChildren(root);
  try {
    await PAGES[page](root, session);
  } catch (e) {
    root.replaceChildren(el('p', { class: 'error', role: 'alert' }, e.message));
  }
  root.removeAttribute('data-loading');
}

signin.addEventListener('submit', (ev) => {
  ev.preventDefault();
  key.set(keyInput.value.trim());
  start();
});
document.getElementById('signout').addEventListener('click', () => {
  keyInput.value = '';
  showSignin();
});
window.addEventListener('hashchange', route);
start();
