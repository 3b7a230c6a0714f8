// Test harness: a seeded ledger (the demo's traffic, written by `switchyard demo`), a
// `switchyard serve` on a free port over it with a master key, the CLI for reference figures,
// and Debian's chromium through playwright-core (no browser download).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Relative paths in the environment are the caller's: `npm --prefix tests/ui` runs this in
// tests/ui, and npm names the directory it was started from in INIT_CWD.
const CALLER = process.env.INIT_CWD || process.cwd();
export const BIN = process.env.SWITCHYARD_BIN ? resolve(CALLER, process.env.SWITCHYARD_BIN) : join(ROOT, 'target/debug/switchyard');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.UI_SCREENSHOTS ? resolve(CALLER, process.env.UI_SCREENSHOTS) : join(ROOT, 'target/ui-screenshots');
export const MASTER = 'ui-test-master-key-0123456789';

const freePort = () => new Promise((ok, fail) => {
  const s = createServer();
  s.once('error', fail);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
});

/// Runs the CLI and parses its `--json` output.
export function cli(...args) {
  return JSON.parse(execFileSync(BIN, [...args, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

/// The demo's ledger and a gateway serving it; `stop()` ends the gateway.
export async function gateway() {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-ui-'));
  const ledger = join(dir, 'demo.db');
  execFileSync(BIN, ['demo', '--requests', '200', '--quiet', '--ledger', ledger], { stdio: 'ignore', cwd: dir });
  // The demo's own configuration, its providers pointed at a closed port: the dashboard
  // reads the ledger and the route table; no request goes upstream.
  let config = readFileSync(join(ROOT, 'crates/cli/demo/switchyard.toml'), 'utf8').replaceAll('SIM_URL', 'http://127.0.0.1:9');
  config = config.replace('[ledger]\n', `[ledger]\npath = ${JSON.stringify(ledger)}\n`);
  writeFileSync(join(dir, 'switchyard.toml'), config);
  const port = await freePort();
  const child = spawn(BIN, ['serve', '-c', join(dir, 'switchyard.toml'), '--listen', `127.0.0.1:${port}`], {
    cwd: dir, stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, SWITCHYARD_MASTER_KEY: MASTER, SWITCHYARD_DEMO_KEY: 'unused' },
  });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${url}/healthz`)).ok) break; } catch (_) { /* not yet */ }
    if (i > 100 || child.exitCode !== null) throw new Error(`switchyard serve did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  mkdirSync(SHOTS, { recursive: true });
  return { url, dir, ledger, log: () => log, stop: () => { child.kill('SIGTERM'); } };
}

/// A GET of the dashboard API with the master key.
export async function api(url, path) {
  const r = await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${MASTER}` } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

/// `$1,234.56` → 1234.56.
export const dollars = (text) => Number(text.replace(/[$,]/g, ''));  // '-$1.00' → -1
