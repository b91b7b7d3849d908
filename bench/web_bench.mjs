// Measures the flamegraph page in headless Chromium: first paint, zoom / hover / search
// times per action, and page memory, on profiles served by the real `ember serve`.
// Usage: node bench/web_bench.mjs EMBER_BIN FILE [LABEL]   (bench/web.sh runs it)

import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(repo, 'tests/package.json'));
const { chromium } = require('playwright-core');
const [ember, file, label = path.basename(file)] = process.argv.slice(2);

const srv = spawn(ember, ['serve', file], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let buf = '';
  srv.stdout.on('data', (d) => { buf += d; const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(buf); if (m) resolve(m[0]); });
  srv.on('exit', (c) => reject(new Error(`ember serve exited ${c}`)));
});
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--enable-precise-memory-info', '--js-flags=--expose-gc'],
});
const stats = (xs) => {
  const s = [...xs].filter((x) => x != null).sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return s.length ? `median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (n=${s.length})` : 'n/a';
};
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => window.ember && window.ember.ready, null, { timeout: 120000 });
  const wall = Date.now() - t0;
  const tm = await page.evaluate(() => window.ember.timings);
  const info = await page.evaluate(() => { const S = window.ember.S; return { samples: S.prof.nSamples, stacks: S.prof.nStacks, nodes: S.tree.n, depth: S.tree.maxDepth[0] }; });
  console.log(`${label}: ${info.samples.toLocaleString('en-US')} samples, ${info.stacks.toLocaleString('en-US')} stacks, ${info.nodes.toLocaleString('en-US')} call-tree nodes, ${info.depth} deep`);
  console.log(`  first paint: ${tm.readyAt.toFixed(0)} ms after navigation [target < 1000 ms] (download ${tm.load.toFixed(0)} ms, build+draw ${(tm.firstPaint - tm.load).toFixed(0)} ms; ${wall} ms wall in the harness)`);
  const zoom = [], hover = [], search = [], reset = [], details = [];
  for (let k = 0; k < 30; k++) {
    zoom.push(await page.evaluate((k) => window.ember.bench.zoomInto(k), k));
    details.push(await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(() => setTimeout(() => r(window.ember.timings.details), 0), 0)))));
    if (k % 5 === 4) reset.push(await page.evaluate(() => window.ember.bench.reset()));
  }
  await page.evaluate(() => window.ember.bench.reset());
  for (let i = 0; i < 60; i++) hover.push(await page.evaluate(([x, y]) => window.ember.bench.hoverAt(x, y), [((i * 37) % 100) / 100, ((i * 13) % 60) / 100 + 0.02]));
  for (const q of ['func_1', 'func_12', 'func_123', '/func_(1|2)3$/', 'decoder', 'zzz_nomatch', '']) search.push(await page.evaluate((q) => window.ember.bench.search(q), q));
  console.log(`  zoom (click → redrawn): ${stats(zoom)} [target < 16 ms]`);
  console.log(`  reset zoom: ${stats(reset)} [target < 16 ms]`);
  console.log(`  details panel of the zoomed frame (filled after the redraw): ${stats(details)}`);
  console.log(`  hover (tooltip + outline): ${stats(hover)} [target < 16 ms]`);
  console.log(`  search (match + highlight + redraw): ${stats(search)} [target < 16 ms]`);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const mb = (b) => `${(b / 1048576).toFixed(0)} MB`;
  const backing = heap.backingStorageSize || 0;
  console.log(`  page memory: JS heap ${mb(heap.usedSize)} + array buffers ${mb(backing)} = ${mb(heap.usedSize + backing)} (heap allocated ${mb(heap.totalSize)}) [target < 200 MB]`);
  // The renderer process as the OS sees it (largest chromium renderer).
  let rss = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('--type=renderer') && cmd.includes('chromium')) {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) rss = Math.max(rss, +m[1] * 1024);
      }
    } catch { /* exited */ }
  }
  if (rss) console.log(`  renderer process RSS: ${mb(rss)} (Chromium's own share included: an empty page is ~170 MB here)`);
} finally {
  await browser.close();
  srv.kill();
}
