// Scale behaviours that must hold whatever the speed: a 5,000-deep recursion renders and
// stays navigable, and frames too small to see fold into a placeholder (nothing dropped)
// that zooming opens. Timings are measured by bench/web.sh, not asserted here.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveFiles, launch, openPage, frameRect, shot, demoRoot } from './web_helpers.mjs';

let browser;
const servers = [];
after(async () => { await browser?.close(); servers.forEach((s) => s.stop()); });

test('a 5,000-deep recursion renders, scrolls to its leaf and stays navigable', async () => {
  const srv = await serveFiles(['deep:5000'], demoRoot());
  servers.push(srv);
  browser ||= await launch();
  const page = await openPage(browser, srv.url);
  assert.equal(await page.evaluate(() => window.ember.S.tree.maxDepth[0]), 5002, 'main + 5000 recurse + leaf');
  assert.ok(await frameRect(page, 'recurse'));
  assert.equal(await frameRect(page, 'leaf'), null, 'the leaf is far below');
  await page.evaluate(() => { const s = window.ember.views.main.scroll; s.scrollTop = s.scrollHeight; });
  await page.waitForFunction(() => window.ember.frameRect('leaf'));
  const leaf = await frameRect(page, 'leaf');
  assert.equal(leaf.depth, 5002);
  await shot(page, 'scale-deep-leaf');
  // Keyboard down the recursion, then zoom deep inside it.
  await page.evaluate(() => { window.ember.views.main.scroll.scrollTop = 0; });
  for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => window.ember.S.tree.depth[window.ember.S.selected]), 30);
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => window.ember.S.zoomPath.length), 30);
  const hover = await page.evaluate(() => { const t = performance.now(); window.ember.views.main.draw(); return performance.now() - t; });
  assert.ok(hover < 1000, `a redraw takes ${hover} ms`);
  await page.keyboard.press('Escape');
  // The flame orientation opens scrolled to the root at the bottom.
  await page.click('#orientation');
  const main = await frameRect(page, 'main');
  assert.ok(main, 'root visible in flame orientation');
  await shot(page, 'scale-deep-flame');
  await page.click('#orientation');
  assert.deepEqual(page.errors, []);
});

test('frames too small to see fold into placeholders that zoom opens', async () => {
  const srv = await serveFiles(['big:20000:4000:40'], demoRoot());
  servers.push(srv);
  browser ||= await launch();
  const page = await openPage(browser, srv.url);
  const n = await page.evaluate(() => window.ember.placeholders());
  assert.ok(n > 0, 'some frames are folded');
  // Nothing dropped: the root holds every sample.
  assert.equal(await page.evaluate(() => window.ember.S.tree.total[0]), 20000);
  const ph = await page.evaluate(() => {
    const v = window.ember.views.main, h = v.hits, r = v.canvas.getBoundingClientRect();
    let best = -1;
    for (let i = 0; i < h.node.length; i++) if (h.node[i] < 0 && (best < 0 || h.w[i] > h.w[best])) best = i;
    return { x: r.left + h.x[best] + h.w[best] / 2, y: r.top + v.rowY(h.depth[best]) + 9, parent: -h.node[best] - 1 };
  });
  await page.mouse.move(ph.x, ph.y);
  assert.match(await page.innerText('#tooltip'), /frames? too small to show/);
  await shot(page, 'scale-placeholders');
  const before = await page.evaluate(() => window.ember.S.zoomPath.length);
  await page.mouse.click(ph.x, ph.y);
  const after = await page.evaluate(() => window.ember.S.zoomPath.length);
  assert.ok(after > before, 'clicking a placeholder zooms in');
  assert.deepEqual(page.errors, []);
});
