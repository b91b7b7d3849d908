// Shared by the browser tests: start the server under test, launch Debian's chromium
// through playwright-core, open the page and wait until it has drawn.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHOTS = path.join(REPO, 'target/screenshots');
mkdirSync(SHOTS, { recursive: true });

// The `ember` binary: EMBER_BIN, else the newer of target/release and target/debug (so a
// stale release build does not shadow the debug build being worked on).
export function emberBin() {
  if (process.env.EMBER_BIN) return process.env.EMBER_BIN;
  const found = ['target/release/ember', 'target/debug/ember'].map((p) => path.join(REPO, p)).filter((p) => existsSync(p));
  if (!found.length) throw new Error('no ember binary: run cargo build');
  return found.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

// The example that serves profiles built in code (tests/web_fixture.rs), next to ember.
export function fixtureBin() {
  const p = path.join(path.dirname(emberBin()), 'examples', 'web_fixture');
  if (!existsSync(p)) throw new Error(`no ${p}: run cargo build -p ember --example web_fixture (cargo test builds it)`);
  return p;
}

// A project folder with the demo's source file in it.
export function demoRoot() {
  const dir = mkdtempSync(path.join(tmpdir(), 'ember-web-'));
  writeFileSync(path.join(dir, 'app.py'), 'def main():\n    work()\n    fetch()\n\ndef work():\n    parse(a)\n    parse(b)\n\ndef idle():\n    pass\n\ndef worker_loop():\n    while True:\n        idle()\n');
  return dir;
}

// Starts `cmd args`, resolves with the URL it prints first (stdout for `ember serve`, stderr
// for `ember record --serve`); later JSON lines on stdout are page events.
export function startServer(cmd, args, { cwd } = {}) {
  const proc = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const events = [];
  const URL_RE = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/;
  let stderr = '';
  return new Promise((resolve, reject) => {
    let buf = '', url = null;
    const timer = setTimeout(() => reject(new Error(`no URL from ${cmd}: ${stderr}`)), 30000);
    const found = (u) => {
      if (url) return;
      url = u; clearTimeout(timer);
      resolve({ url, events, proc, stop: () => proc.kill(), stderr: () => stderr });
    };
    proc.stderr.on('data', (d) => { stderr += d; const m = URL_RE.exec(stderr); if (m) found(m[1]); });
    proc.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim(); buf = buf.slice(i + 1);
        const m = URL_RE.exec(line);
        if (!url && m) found(m[1]);
        else if (line.startsWith('{')) events.push(JSON.parse(line));
      }
    });
    proc.on('exit', (code) => { if (!url) { clearTimeout(timer); reject(new Error(`${cmd} exited ${code}: ${stderr}`)); } });
  });
}

export async function launch() {
  // playwright gives each launch a fresh temporary --user-data-dir of its own.
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export async function openPage(browser, url, { width = 1400, height = 900 } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A source file missing on disk is a 404 the page shows in its source panel; not an error here.
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 404/.test(m.text())) errors.push(m.text()); });
  await page.goto(url);
  try {
    await page.waitForFunction(() => window.ember && window.ember.ready, null, { timeout: 30000 });
  } catch (e) {
    throw new Error(`page did not get ready: ${errors.join(' | ')} ${e.message}`);
  }
  page.errors = errors;
  return page;
}

export const frameRect = (page, name, which = 0, view = 'main') => page.evaluate(([n, w, v]) => window.ember.frameRect(n, w, v), [name, which, view]);
export async function clickFrame(page, name, opts = {}) {
  const r = await frameRect(page, name, opts.which || 0, opts.view || 'main');
  if (!r) throw new Error(`frame ${name} is not drawn`);
  for (const m of opts.modifiers || []) await page.keyboard.down(m);
  await page.mouse.click(r.x + Math.min(r.w / 2, 20), r.y + r.h / 2);
  for (const m of opts.modifiers || []) await page.keyboard.up(m);
  return r;
}
export const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Saves profiles built in code as .ember files (web_fixture --write) and serves them with
// the real `ember serve FILE... --root ROOT`.
export async function serveFiles(kinds, root) {
  const { execFileSync } = await import('node:child_process');
  const dir = mkdtempSync(path.join(tmpdir(), 'ember-files-'));
  const files = execFileSync(fixtureBin(), ['--write', dir, ...kinds], { encoding: 'utf8' }).trim().split('\n');
  const srv = await startServer(emberBin(), ['serve', ...files, '--root', root]);
  srv.files = files;
  return srv;
}

// The details panel fills in just after the flamegraph redraws: wait for the selected frame's.
export const detailsReady = (page) => page.waitForFunction(() => document.getElementById('details').dataset.node === String(window.ember.S.selected));
