// The page follows the editor: `ember lsp` serves the workspace's latest profile, the page
// zooms (and the editor hears it), then the editor's `ember.clearFocus` zooms every open page
// back out to the whole profile. Real LSP server over stdio, real page in headless Chromium.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { emberBin, fixtureBin, demoRoot, launch, openPage, clickFrame, shot, sleep } from './web_helpers.mjs';

// A minimal LSP client: Content-Length framing, requests with promises, notifications kept.
function lspClient(proc) {
  let buf = Buffer.alloc(0), next = 1;
  const pending = new Map(), notes = [];
  proc.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = +/Content-Length: (\d+)/i.exec(buf.subarray(0, end).toString())[1];
      if (buf.length < end + 4 + len) return;
      const msg = JSON.parse(buf.subarray(end + 4, end + 4 + len).toString());
      buf = buf.subarray(end + 4 + len);
      if (msg.id !== undefined && !msg.method) pending.get(msg.id)?.(msg);
      else if (msg.id !== undefined) send({ jsonrpc: '2.0', id: msg.id, result: null });  // server → client requests
      else notes.push(msg);
    }
  });
  const send = (m) => { const b = Buffer.from(JSON.stringify(m)); proc.stdin.write(`Content-Length: ${b.length}\r\n\r\n`); proc.stdin.write(b); };
  return {
    notes,
    request: (method, params) => new Promise((resolve) => { const id = next++; pending.set(id, resolve); send({ jsonrpc: '2.0', id, method, params }); }),
    notify: (method, params) => send({ jsonrpc: '2.0', method, params }),
  };
}

let lsp, client, browser, page, root;
before(async () => {
  root = demoRoot();
  const dir = mkdtempSync(path.join(tmpdir(), 'ember-focus-'));
  const [file] = execFileSync(fixtureBin(), ['--write', dir, 'demo'], { encoding: 'utf8' }).trim().split('\n');
  mkdirSync(path.join(root, '.ember'));
  copyFileSync(file, path.join(root, '.ember', 'demo.ember'));
  writeFileSync(path.join(root, '.ember', 'latest'), 'demo.ember\n');
  lsp = spawn(emberBin(), ['lsp'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  client = lspClient(lsp);
  const init = await client.request('initialize', { processId: process.pid, rootUri: pathToFileURL(root).href, capabilities: {} });
  assert.ok(init.result?.capabilities, JSON.stringify(init));
  client.notify('initialized', {});
  let url = null;
  for (let i = 0; i < 100 && !url; i++) {
    url = client.notes.map((n) => /flamegraph at (\S+)/.exec(n.params?.message || '')?.[1]).find(Boolean);
    if (!url) await sleep(100);
  }
  assert.ok(url, `the server did not report its flamegraph URL: ${JSON.stringify(client.notes)}`);
  browser = await launch();
  page = await openPage(browser, url);
});
after(async () => { await browser?.close(); lsp?.kill(); });

const zoomName = () => page.evaluate(() => window.ember.zoomName());
const mode = () => page.evaluate(() => window.ember.S.mode);
const clearFocus = () => client.request('workspace/executeCommand', { command: 'ember.clearFocus', arguments: [] });

test("the editor's clear-focus command zooms the page out", async () => {
  await clickFrame(page, 'work');
  assert.equal(await zoomName(), 'work');
  await sleep(400);  // the page tells the editor after a short pause
  const r = await clearFocus();
  assert.deepEqual(r.result, { focus: null });
  await page.waitForFunction(() => window.ember.zoomName() === 'all', null, { timeout: 5000 });
  assert.match(await page.textContent('#status'), /editor cleared its focus/);
  await shot(page, 'editor-clear-focus');
  // Back returns to the zoom the editor cleared.
  await page.keyboard.press('Backspace');
  assert.equal(await zoomName(), 'work');
  await page.keyboard.press('Escape');
});

test('a function set as root goes back to the whole flamegraph', async () => {
  const whole = await page.evaluate(() => window.ember.S.tree.total[0]);
  await clickFrame(page, 'parse');
  await page.click('#d-root');
  assert.equal(await mode(), 'root');
  assert.ok(await page.evaluate(() => window.ember.S.tree.total[0]) < whole);
  await sleep(400);
  await clearFocus();
  await page.waitForFunction(() => window.ember.S.mode === 'tree', null, { timeout: 5000 });
  assert.equal(await zoomName(), 'all');
  assert.equal(await page.evaluate(() => window.ember.S.tree.total[0]), whole);
});

test('with nothing zoomed the page stays as it is and says nothing', async () => {
  await sleep(2500);  // the last flash has faded
  const before = await page.textContent('#status');
  await clearFocus();
  await sleep(500);
  assert.equal(await zoomName(), 'all');
  assert.equal(await page.textContent('#status'), before);
});
