// The flamegraph itself in headless Chromium: drawing and colours by origin, the legend
// filter, zoom/ancestor/back/reset, keyboard navigation, the hover tooltip, search, and
// both orientations. Profile: tests/support/web_profiles.rs `demo` (1600 samples).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveFiles, launch, openPage, frameRect, clickFrame, shot, demoRoot, sleep } from './web_helpers.mjs';

let srv, browser, page;
before(async () => {
  srv = await serveFiles(['demo'], demoRoot());
  browser = await launch();
  page = await openPage(browser, srv.url);
});
after(async () => { await browser?.close(); srv?.stop(); });

// Colour of the canvas pixel at the centre-left of a drawn frame.
async function pixel(name, which = 0) {
  const r = await frameRect(page, name, which);
  assert.ok(r, `${name} drawn`);
  const buf = await page.screenshot({ clip: { x: Math.round(r.x + 2), y: Math.round(r.y + 2), width: 1, height: 1 } });
  // decode the 1x1 PNG through the browser
  return page.evaluate(async (b64) => {
    const img = new Image(); img.src = `data:image/png;base64,${b64}`; await img.decode();
    const c = new OffscreenCanvas(1, 1); const x = c.getContext('2d'); x.drawImage(img, 0, 0);
    return Array.from(x.getImageData(0, 0, 1, 1).data.slice(0, 3));
  }, buf.toString('base64'));
}
const tooltip = () => page.evaluate(() => { const t = document.getElementById('tooltip'); return t.hidden ? null : t.innerText; });
const zoomName = () => page.evaluate(() => window.ember.zoomName());
const reset = async () => { await page.mouse.move(5, 5); await page.keyboard.press('Escape'); };

test('draws every function with colours by origin and fitting labels', async () => {
  for (const name of ['main', 'worker_loop', 'work', 'parse', 'fetch', 'helper', 'idle']) assert.ok(await frameRect(page, name), name);
  assert.ok(await frameRect(page, 'work', 1), 'work under both threads');
  const main = await frameRect(page, 'main'), wl = await frameRect(page, 'worker_loop');
  assert.ok(Math.abs(main.w / wl.w - 1000 / 600) < 0.02, 'widths are proportional to samples');
  const [pr, pg, pb] = await pixel('main');   // project: orange
  assert.ok(pr > pb + 60, `project is warm ${[pr, pg, pb]}`);
  const [sr, , sb] = await pixel('parse');    // stdlib: blue
  assert.ok(sb > sr + 60, `stdlib is blue ${[sr, sb]}`);
  const [gr, gg] = await pixel('fetch');      // site-packages: green
  assert.ok(gg > gr + 30, `site-packages is green ${[gr, gg]}`);
  const [or, og, ob] = await pixel('helper'); // other: grey
  assert.ok(Math.abs(or - og) < 12 && Math.abs(og - ob) < 12, `other is grey ${[or, og, ob]}`);
  await shot(page, 'flame-icicle');
  assert.deepEqual(page.errors, []);
});

test('the legend hides an origin: its frames merge into their callers', async () => {
  await page.click('#legend .chip[data-origin="stdlib"]');
  assert.equal(await frameRect(page, 'parse'), null, 'stdlib frames hidden');
  const self = await page.evaluate(() => { const S = window.ember.S; const v = S.tree.find(S.tree.funcPath(S.tree.nodesOfFunc(S.prof.funcName.findIndex((n) => S.prof.strings[n] === 'work'))[0])); return S.tree.self[v]; });
  assert.ok(self === 500 || self === 100, 'work absorbed parse');
  await shot(page, 'flame-legend-hide-stdlib');
  await page.click('#legend .chip[data-origin="stdlib"]');
  assert.ok(await frameRect(page, 'parse'), 'shown again');
});

test('click zooms, an ancestor zooms out, Backspace goes back, Escape resets; the editor hears it', async () => {
  await reset();
  await clickFrame(page, 'work');
  assert.equal(await zoomName(), 'work');
  await sleep(400);  // the editor is told after a short pause (bursts of zooms send one)
  assert.equal(srv.events.filter((e) => e.focus).pop()?.focus, 'Some(FunctionPath([0, 1]))');
  const w = await frameRect(page, 'work');
  const width = await page.evaluate(() => window.ember.views.main.scroll.clientWidth);
  assert.ok(w.w > width - 2, 'zoomed frame spans the width');
  assert.ok((await frameRect(page, 'parse')).w > width * 0.75, 'its child grows');
  await shot(page, 'flame-zoom-work');
  await clickFrame(page, 'main');            // an ancestor, drawn above at full width
  assert.equal(await zoomName(), 'main');
  await sleep(400);
  assert.equal(srv.events.filter((e) => e.focus).pop()?.focus, 'Some(FunctionPath([0]))');
  await page.keyboard.press('Backspace');
  assert.equal(await zoomName(), 'work');
  await page.keyboard.press('Escape');
  assert.equal(await zoomName(), 'all');
  await sleep(400);
  assert.equal(srv.events.filter((e) => e.focus).pop()?.focus, 'None');
});

test('arrow keys move between frames and Enter zooms', async () => {
  await reset();
  const sel = () => page.evaluate(() => window.ember.selectedName());
  await page.keyboard.press('ArrowDown');
  assert.equal(await sel(), 'main', 'heaviest child of the root');
  await page.keyboard.press('ArrowDown');
  assert.equal(await sel(), 'work');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await sel(), 'helper', 'previous sibling (alphabetical)');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await sel(), 'fetch');
  await page.keyboard.press('ArrowUp');
  assert.equal(await sel(), 'main');
  await page.keyboard.press('ArrowRight');
  assert.equal(await sel(), 'worker_loop');
  await page.keyboard.press('Enter');
  assert.equal(await zoomName(), 'worker_loop');
  await shot(page, 'flame-keyboard');
  await reset();
});

test('arrow keys keep the selection on the frames drawn while zoomed', async () => {
  await reset();
  const sel = () => page.evaluate(() => window.ember.selectedName());
  const press = async (key, expect, why) => {
    await page.keyboard.press(key);
    assert.equal(await sel(), expect, `${key}: ${why}`);
    assert.ok(await frameRect(page, expect), `${key}: ${expect} is drawn`);
  };
  await clickFrame(page, 'fetch');              // zoom and selection on main › fetch
  await press('ArrowRight', 'fetch', 'its siblings (helper, work) are not drawn');
  await press('ArrowLeft', 'fetch', 'nor to the left');
  await press('ArrowUp', 'main', 'its caller, drawn above it');
  await press('ArrowDown', 'fetch', 'back towards the zoom, not to work (main\'s heaviest callee, not drawn)');
  await press('ArrowUp', 'main', 'up again');
  await page.keyboard.press('ArrowUp');
  assert.equal(await page.evaluate(() => window.ember.S.selected), 0, 'the root');
  await page.keyboard.press('ArrowDown');
  await press('ArrowDown', 'fetch', 'down the zoom path from the root');
  await press('ArrowDown', 'fetch', 'a leaf stays');
  await page.keyboard.press('Enter');
  assert.equal(await zoomName(), 'fetch');
  // Zoomed on main, its callees are drawn: the arrows walk them.
  await clickFrame(page, 'main');
  await press('ArrowDown', 'work', 'heaviest callee');
  await press('ArrowLeft', 'helper', 'its sibling, drawn');
  await reset();
});

test('Enter on a focused button presses that button only; arrows still move the selection', async () => {
  await reset();
  await clickFrame(page, 'main');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => window.ember.selectedName()), 'work');
  const history = () => page.evaluate(() => window.ember.S.history.length);
  const depth = await history();
  await page.focus('#back');
  await page.keyboard.press('Enter');
  // It went back to the whole profile; it used to zoom to the selection first (Enter on the
  // flamegraph), so Back undid that and stayed on main.
  assert.equal(await zoomName(), 'all');
  assert.equal(await history(), depth - 1, 'one step back, nothing pushed');
  assert.equal(await page.evaluate(() => window.ember.selectedName()), 'work', 'the selection stays');
  await page.focus('#orientation');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => window.ember.selectedName()), 'parse', 'buttons do not use arrows');
  assert.equal(await page.evaluate(() => window.ember.S.orientation), 'icicle');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => window.ember.S.orientation), 'flame', 'Enter pressed the button');
  assert.equal(await zoomName(), 'all', 'and did not zoom');
  await page.click('#orientation');
  await reset();
});

test('after a click or a key zooms, the tooltip describes what is under the mouse now', async () => {
  await reset();
  const r = await frameRect(page, 'main');
  await page.mouse.move(r.x + 20, r.y + 5);
  let t = await tooltip();
  assert.match(t, /^main\n/);
  assert.doesNotMatch(t, /of zoom/);
  await page.mouse.down(); await page.mouse.up();  // a click where the mouse is: zoom on main
  assert.equal(await zoomName(), 'main');
  assert.match(await tooltip(), /^main\n[^]*62\.5% of all · 100\.0% of zoom/, 'main as it is now, the zoom');
  // The mouse rests on the right end of work; Escape zooms out and idle is there now.
  const w = await frameRect(page, 'work');
  const at = { x: w.x + w.w - 5, y: w.y + 5 };
  await page.mouse.move(at.x, at.y);
  assert.match(await tooltip(), /^work\n/);
  await page.keyboard.press('Escape');
  const idle = await frameRect(page, 'idle');
  assert.ok(at.x >= idle.x && at.x < idle.x + idle.w && at.y >= idle.y && at.y < idle.y + idle.h, 'idle is under the mouse');
  assert.match(await tooltip(), /^idle\n/);
  assert.equal(await page.evaluate(() => window.ember.views.main.hover), idle.node, 'and outlined');
  await reset();
  assert.equal(await tooltip(), null);
});

test('hover shows function, file:line, total and self, % of all and of the zoom, thread', async () => {
  await reset();
  const r = await frameRect(page, 'fetch');
  await page.mouse.move(r.x + 5, r.y + 5);
  let t = await tooltip();
  assert.match(t, /fetch/);
  assert.match(t, /site-packages\/requests\/api\.py:20/);
  assert.match(t, /total: 300 samples \(300\.0 ms\) · 18\.8% of all/);
  assert.doesNotMatch(t, /of zoom/);  // nothing zoomed: "of all" says it
  assert.match(t, /self: 300 samples/);
  assert.match(t, /threads: MainThread/);
  await shot(page, 'flame-tooltip');
  await clickFrame(page, 'main');
  const r2 = await frameRect(page, 'fetch');
  await page.mouse.move(r2.x + 5, r2.y + 5);
  t = await tooltip();
  assert.match(t, /18\.8% of all · 30\.0% of zoom/);
  // Zoomed on fetch, its caller main is drawn above it and holds more than the zoom: no
  // share of the zoom for it (it read 233%); fetch itself is all of it.
  await clickFrame(page, 'fetch');
  const m = await frameRect(page, 'main');
  await page.mouse.move(m.x + 5, m.y + 5);
  t = await tooltip();
  assert.match(t, /total: 1000 samples/);
  assert.doesNotMatch(t, /of zoom/);
  const f = await frameRect(page, 'fetch');
  await page.mouse.move(f.x + 5, f.y + 5);
  assert.match(await tooltip(), /100\.0% of zoom/);
  await clickFrame(page, 'main');
  const p = await frameRect(page, 'parse', 0);
  await page.mouse.move(p.x + 5, p.y + 5);
  assert.match(await tooltip(), /total: 400 samples/);
  await reset();
  const wk = await frameRect(page, 'work', 1);
  await page.mouse.move(wk.x + 3, wk.y + 5);
  assert.match(await tooltip(), /threads: worker/);
});

test('search by substring and regex highlights matches, shows their share, next/previous', async () => {
  await reset();
  await page.fill('#search', 'pars');
  assert.equal(await page.textContent('#matches'), '2 matches · 31.3% of total');
  const [r, g, b] = await pixel('parse');
  assert.ok(r > 180 && b > 180 && g < 120, `highlighted ${[r, g, b]}`);
  const [mr, mg, mb] = await pixel('main');
  assert.ok(mr > 200 && mg > 200 && mb > 190, `others fade ${[mr, mg, mb]}`);
  await shot(page, 'flame-search');
  await page.fill('#search', 'decoder.py');
  assert.match(await page.textContent('#matches'), /^2 matches · 31\.3%/, 'matches files too');
  await page.fill('#search', '/^(fetch|idle)$/');
  assert.equal(await page.textContent('#matches'), '2 matches · 50.0% of total');
  await page.press('#search', 'Enter');
  assert.equal(await page.evaluate(() => window.ember.selectedName()), 'fetch');
  assert.match(await page.textContent('#matches'), /^1\/2/);
  await page.click('#next');
  assert.equal(await page.evaluate(() => window.ember.selectedName()), 'idle');
  await page.click('#prev');
  assert.equal(await page.evaluate(() => window.ember.selectedName()), 'fetch');
  await page.fill('#search', '/(/');
  assert.match(await page.textContent('#matches'), /bad regex/);
  await page.fill('#search', '');
  assert.equal(await page.textContent('#matches'), '');
});

test('flame orientation puts the root at the bottom', async () => {
  await reset();
  const icicle = [await frameRect(page, 'main'), await frameRect(page, 'parse')];
  assert.ok(icicle[0].y < icicle[1].y);
  await page.click('#orientation');
  const flame = [await frameRect(page, 'main'), await frameRect(page, 'parse')];
  assert.ok(flame[0].y > flame[1].y, 'callee above its caller');
  const box = await page.evaluate(() => document.querySelector('#flame .flame-scroll').getBoundingClientRect().bottom);
  assert.ok(box - flame[0].y < 60, 'root rows at the bottom of the view');
  await shot(page, 'flame-flame');
  await page.click('#orientation');
  assert.deepEqual(page.errors, []);
});

test('a narrow window puts the side panel under the flamegraph', async () => {
  await reset();
  const before = page.viewportSize();
  await page.setViewportSize({ width: 600, height: 800 });
  await sleep(200);
  const [flame, side] = await page.evaluate(() => ['flame', 'side'].map((id) => {
    const r = document.getElementById(id).getBoundingClientRect();
    return { x: r.x, y: r.y, w: r.width, h: r.height };
  }));
  assert.ok(flame.w > 560, `flamegraph ${flame.w}px wide of 600`);
  assert.ok(side.y >= flame.y + flame.h - 1, 'side panel below the flamegraph');
  const r = await frameRect(page, 'main');
  assert.ok(r && r.w > 300, 'frames drawn across the width');
  await shot(page, 'flame-narrow');
  await page.setViewportSize(before);
  await sleep(200);
  assert.deepEqual(page.errors, []);
});
