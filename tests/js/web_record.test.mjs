// End to end with the real sampler: `ember record --serve -- python busy.py` and the page
// follows the recording live (count and rate while it runs, the final profile after).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { emberBin, startServer, launch, openPage, frameRect, shot, sleep } from './web_helpers.mjs';

const PY = ['/root/.pyenv/versions/3.12.1/bin/python3', '/usr/bin/python3'].find((p) => existsSync(p));
let browser, srv;
after(async () => { await browser?.close(); srv?.stop(); });

test('ember record --serve: the page shows the recording live, then the whole profile', { skip: !PY && 'no python' }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ember-rec-'));
  const script = path.join(dir, 'busy.py');
  writeFileSync(script, 'import time\ndef spin(t):\n    end = time.time() + t\n    x = 0\n    while time.time() < end:\n        x += 1\n    return x\n\ndef main():\n    for _ in range(12):\n        spin(0.5)\n\nmain()\n');
  srv = await startServer(emberBin(), ['record', '--serve', '-o', path.join(dir, 'busy.ember'), '--', PY, script], { cwd: dir });
  browser = await launch();
  const page = await openPage(browser, srv.url);
  const seen = [];
  const t0 = Date.now();
  while (Date.now() - t0 < 20000) {
    const s = await page.evaluate(() => [document.getElementById('status').textContent, window.ember.S.tree ? window.ember.S.tree.total[0] : 0]);
    seen.push(s);
    if (/^[\d,]+ samples/.test(s[0]) && seen.some(([t]) => /recording/.test(t))) break;
    await sleep(250);
  }
  const live = seen.filter(([s]) => /● recording · [\d,]+ samples · [\d,]+\/s/.test(s));
  assert.ok(live.length >= 2, `live status while recording: ${JSON.stringify(seen.slice(0, 6))}`);
  const counts = live.map(([s]) => +/· ([\d,]+) samples/.exec(s)[1].replace(/,/g, ''));
  assert.ok(counts[counts.length - 1] > counts[0], `the count grows: ${counts}`);
  const totals = [...new Set(live.map(([, n]) => n))];
  assert.ok(totals.length >= 2, `the flamegraph redraws while recording: ${totals}`);
  const final = seen[seen.length - 1];
  assert.match(final[0], /^[\d,]+ samples/, 'finished');
  await page.waitForFunction(() => window.ember.frameRect('spin'));
  assert.ok(await frameRect(page, 'main'));
  await page.mouse.move(5, 5);
  await shot(page, 'record-live-finished');
  assert.deepEqual(page.errors, []);
});
