// Live updates while a profile grows (SSE: sample count and rate, redraws at least once a
// second), a page whose server stopped, and the differential view ("compare with…": widths from NEW, red slower, blue
// faster, elided view for stacks only in BASE).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureBin, startServer, serveFiles, launch, openPage, frameRect, clickFrame, shot, demoRoot, sleep } from './web_helpers.mjs';

let browser;
const servers = [];
after(async () => { await browser?.close(); servers.forEach((s) => s.stop()); });

test('a growing profile updates the page with its sample count and rate', async () => {
  const srv = await startServer(fixtureBin(), ['--root', demoRoot(), '--live', 'demo']);
  servers.push(srv);
  browser ||= await launch();
  const page = await openPage(browser, srv.url);
  const seen = [];
  const t0 = Date.now();
  let status = '';
  while (Date.now() - t0 < 10000) {
    const s = await page.evaluate(() => [document.getElementById('status').textContent, window.ember.S.tree ? window.ember.S.tree.total[0] : 0]);
    seen.push(s);
    status = s[0];
    if (!/recording/.test(status) && s[1] === 1600) break;
    await sleep(100);
  }
  const recording = seen.filter(([s]) => /● recording · [\d,]+ samples · [\d,]+\/s/.test(s));
  assert.ok(recording.length > 0, `a recording status was shown: ${JSON.stringify(seen.slice(0, 5))}`);
  const totals = [...new Set(seen.map(([, n]) => n))].filter((n) => n > 0 && n < 1600);
  assert.ok(totals.length >= 2, `the flamegraph redrew as samples arrived: ${totals}`);
  assert.equal(seen[seen.length - 1][1], 1600, 'everything arrives');
  assert.match(status, /^1,600 samples/);
  assert.ok(await frameRect(page, 'parse'));
  await shot(page, 'live-finished');
  assert.deepEqual(page.errors, []);
});

test('a replaced profile (a newer recording) reloads in full', async () => {
  const srv = await startServer(fixtureBin(), ['--root', demoRoot(), '--replace', 'demo-new', 'demo']);
  servers.push(srv);
  browser ||= await launch();
  const page = await openPage(browser, srv.url);
  assert.ok(await frameRect(page, 'fetch'), 'the first profile');
  await page.waitForFunction(() => window.ember.S.tree.total[0] === 1700, null, { timeout: 10000 });
  assert.equal(await frameRect(page, 'fetch'), null, 'the newer one, not a mix');
  assert.equal(await page.evaluate(() => window.ember.S.prof.nSamples), 1700);
  assert.match(await page.textContent('#status'), /^1,700 samples/);
  assert.deepEqual(page.errors, []);
});

test('when Ember stops, the page says so, keeps what works and stops asking the server', async () => {
  const srv = await serveFiles(['demo'], demoRoot());
  servers.push(srv);
  browser ||= await launch();
  const page = await openPage(browser, srv.url);
  assert.ok(await page.isHidden('#gone'));
  srv.proc.kill('SIGKILL');  // as when the terminal closes or the editor's session ends
  // The live stream drops; the page asks once more, then says so.
  await page.waitForSelector('#gone', { state: 'visible', timeout: 5000 });
  const text = await page.innerText('#gone');
  assert.match(text, /^Ember has stopped: this page is no longer live/);
  assert.match(text, /The profile is in demo\.ember: ember serve demo\.ember opens it again/);
  assert.equal(await page.evaluate(() => window.ember.live.readyState), 2, 'the stream is closed, not retried');
  assert.ok(await page.isDisabled('#compare'));
  // Zoom still works; the source and the editor say Ember stopped, and nothing is requested.
  const asked = [];
  page.on('request', (r) => asked.push(r.url()));
  await clickFrame(page, 'work');
  assert.equal(await page.evaluate(() => window.ember.zoomName()), 'work');
  await page.waitForSelector('#sourcepanel .error');
  assert.match(await page.innerText('#sourcepanel'), /Ember has stopped/);
  await clickFrame(page, 'parse', { modifiers: ['Control'] });
  assert.equal(await page.textContent('#status'), 'Ember has stopped: it cannot open the editor');
  await shot(page, 'server-stopped');
  assert.deepEqual(asked, []);
  assert.ok(await page.isVisible('#gone'), 'the banner stays');
});

test('compare with another profile: red slower, blue faster, elided view of BASE-only stacks', async () => {
  // NEW (shown): parse doubled on the main thread and no fetch; BASE: the demo.
  const srv = await serveFiles(['demo-new', 'demo'], demoRoot());
  servers.push(srv);
  browser ||= await launch();
  const page = await openPage(browser, srv.url);
  assert.equal(await page.evaluate(() => window.ember.S.tree.total[0]), 1700);
  await page.selectOption('#compare', { label: 'base: demo.ember' });
  await page.waitForFunction(() => window.ember.S.diff);
  const color = async (name) => {
    const r = await frameRect(page, name);
    assert.ok(r, name);
    return page.evaluate(([x, y]) => {
      const c = window.ember.views.main.canvas; const d = window.devicePixelRatio;
      const rect = c.getBoundingClientRect();
      return Array.from(c.getContext('2d').getImageData(Math.round((x - rect.left) * d), Math.round((y - rect.top) * d), 1, 1).data.slice(0, 3));
    }, [r.x + 3, r.y + 3]);
  };
  const [pr, , pb] = await color('parse');     // 52.9% of NEW vs 31.3% of BASE
  assert.ok(pr > pb + 60, `parse is red ${[pr, pb]}`);
  const [ir, , ib] = await color('idle');      // 29.4% vs 31.3%: a little faster
  assert.ok(ib > ir, `idle is blue ${[ir, ib]}`);
  assert.equal(await frameRect(page, 'fetch'), null, 'widths come from NEW');
  const r = await frameRect(page, 'parse');
  await page.mouse.move(r.x + 5, r.y + 5);
  assert.match(await page.innerText('#tooltip'), /BASE 25\.0% → NEW 47\.1% \(\+22\.1 pts\)/);
  assert.match(await page.innerText('#legend'), /blue: faster than BASE · red: slower/);
  await shot(page, 'diff');
  await page.click('#elided');
  const fetch = await frameRect(page, 'fetch');
  assert.ok(fetch, 'BASE-only stack shown in the elided view');
  const [fr, , fb] = await color('fetch');
  assert.ok(fb > fr + 60, `only-in-BASE is blue ${[fr, fb]}`);
  const [mr, mg, mb] = await color('main');
  assert.ok(Math.abs(mr - mb) < 10 && Math.abs(mr - mg) < 10, 'shared stacks are grey');
  await shot(page, 'diff-elided');
  await page.click('#elided');
  await page.selectOption('#compare', '');
  assert.equal(await page.evaluate(() => window.ember.S.diff), null);
  // `&base=1` (what `ember diff` opens) starts in the differential view.
  const p2 = await openPage(browser, `${srv.url}&base=1`);
  await p2.waitForFunction(() => window.ember.compared);
  assert.equal(await p2.evaluate(() => window.ember.S.base.index), 1);
  assert.ok(await p2.evaluate(() => window.ember.S.diff !== null));
  // Switching the shown profile.
  await p2.selectOption('#profile', '1');
  await p2.waitForFunction(() => window.ember.S.index === 1 && window.ember.S.tree.total[0] === 1600);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(p2.errors, []);
  await p2.close();
});
