// The other views in headless Chromium: source view (heat, both-way links, Ctrl-click to the
// editor), set as root, inverted, sandwich, details panel, time view with range selection,
// thread and wall/CPU/GIL filters. Profile: tests/support/web_profiles.rs `demo`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serveFiles, launch, openPage, frameRect, clickFrame, shot, demoRoot, sleep, detailsReady } from './web_helpers.mjs';

let srv, browser, page, root;
before(async () => {
  root = demoRoot();
  srv = await serveFiles(['demo'], root);
  browser = await launch();
  page = await openPage(browser, srv.url);
});
after(async () => { await browser?.close(); srv?.stop(); });

const reset = async () => { await page.mouse.move(5, 5); await page.keyboard.press('Escape'); };
const rootTotal = () => page.evaluate(() => window.ember.S.tree.total[0]);
const sourceRow = (n) => page.evaluate((n) => {
  const tr = document.querySelector(`table.source tr[data-line="${n}"]`);
  return tr ? [...tr.children].map((td) => td.textContent) : null;
}, n);

test('source view: per-line heat, linked both ways, Ctrl-click opens the editor', async () => {
  await clickFrame(page, 'work');
  await page.waitForSelector('table.source tr[data-line="6"]');
  assert.equal(await page.textContent('.source-head'), 'app.py');
  // line 6 (work → parse(a)): 200 + 100 through main, 100 through worker_loop = 25%; self 100.
  assert.deepEqual(await sourceRow(6), ['6', '25.0%', '6.3%', '    parse(a)']);
  assert.deepEqual(await sourceRow(2), ['2', '31.3%', '', '    work()']);
  assert.deepEqual(await sourceRow(4), ['4', '', '', '']);
  // line → flamegraph: line 14 is worker_loop's call of idle.
  await reset();
  await page.click('table.source tr[data-line="14"]');
  assert.equal(await page.textContent('#matches'), 'line 14: 1 frames · 37.5%');
  assert.deepEqual(await page.evaluate(() => Array.from(window.ember.S.lineHit.entries()).filter(([, v]) => v).map(([f]) => window.ember.S.prof.funcLabel(f))), ['worker_loop']);
  await shot(page, 'views-source-line');
  await page.click('table.source tr[data-line="14"]');
  assert.equal(await page.evaluate(() => window.ember.S.lineHit), null, 'second click clears');
  // Ctrl-click: the editor is asked to open the file (absolute, under the project root).
  const before = srv.events.length;
  await clickFrame(page, 'idle', { modifiers: ['Control'] });
  await sleep(300);
  const opened = srv.events.slice(before).filter((e) => e.open);
  assert.deepEqual(opened, [{ open: { file: path.join(root, 'app.py'), line: 10 } }], 'its hottest line');
  assert.equal(await page.evaluate(() => window.ember.zoomName()), 'all', 'Ctrl-click does not zoom');
});

test('the tooltip names the hottest line; the editor can open the page on a function', async () => {
  await reset();
  const r = await frameRect(page, 'work');
  await page.mouse.move(r.x + 5, r.y + 5);
  assert.match(await page.innerText('#tooltip'), /app\.py:5 · project · hottest line 6/);
  const p2 = await browser.newPage();
  await p2.goto(`${srv.url}&file=${encodeURIComponent('/usr/lib/python3.12/json/decoder.py')}&function=parse`);
  await p2.waitForFunction(() => window.ember && window.ember.ready);
  assert.deepEqual(await p2.evaluate(() => [window.ember.S.mode, window.ember.S.tree.total[0]]), ['root', 500]);
  await p2.goto(`${srv.url}&file=app.py&function=work&view=sandwich`);
  await p2.waitForFunction(() => window.ember && window.ember.ready);
  assert.deepEqual(await p2.evaluate(() => [window.ember.S.mode, window.ember.S.tree.total[0]]), ['sandwich', 600]);
  await p2.close();
});

test('a function the profile does not have: the page says so until the user acts', async () => {
  const p2 = await browser.newPage();
  await p2.clock.install();  // to pass the time a passing message fades in, without waiting it
  await p2.goto(`${srv.url}&file=app.py&function=nope`);
  await p2.waitForFunction(() => window.ember && window.ember.ready);
  const status = () => p2.textContent('#status');
  assert.equal(await status(), 'nope (app.py) is not in this profile: showing all of it');
  assert.equal(await p2.evaluate(() => window.ember.S.mode), 'tree');
  // The first live update used to write the sample count over it, as the page's own status did.
  await p2.waitForFunction(() => window.ember.S.progress);
  await p2.clock.fastForward(10000);
  assert.equal(await status(), 'nope (app.py) is not in this profile: showing all of it');
  assert.ok(await p2.evaluate(() => document.getElementById('status').classList.contains('notice')));
  await shot(p2, 'views-function-not-found');
  await p2.keyboard.press('Escape');
  assert.match(await status(), /^1,600 samples/);
  await p2.close();
});

test('details panel: total/self, all calls, instances, threads, top callees', async () => {
  await reset();
  await clickFrame(page, 'work');
  await detailsReady(page);
  assert.equal(await page.textContent('#d-name'), 'work');
  assert.equal(await page.textContent('#d-total'), '500');
  assert.equal(await page.textContent('#d-self'), '100');
  assert.equal(await page.textContent('#d-func'), '600', 'both calls of work');
  assert.equal(await page.textContent('#d-threads'), 'MainThread: 500 (100.0%)');
  const inst = await page.$$eval('#d-instances tr', (trs) => trs.map((t) => t.innerText.replace(/\s+/g, ' ').trim()));
  assert.equal(inst.length, 2);
  assert.match(inst[0], /from main 500/);
  assert.match(inst[1], /from worker_loop 100/);
  assert.match(await page.innerText('#d-callees'), /parse\s+400\s+80\.0%/);
  assert.match(await page.innerText('#d-modules'), /json\/decoder\.py\s+400/);
  await page.click('#d-instances tr:nth-child(2) .link');
  await detailsReady(page);
  assert.deepEqual(await page.evaluate(() => window.ember.S.zoomPath.map((f) => window.ember.S.prof.funcLabel(f))), ['worker_loop', 'work']);
  assert.equal(await page.textContent('#d-threads'), 'worker: 100 (100.0%)');
  await shot(page, 'views-details');
});

test('set a function as root merges its calls and rebases percentages', async () => {
  await reset();
  await clickFrame(page, 'parse');
  await detailsReady(page);
  await page.click('#d-root');
  assert.equal(await page.evaluate(() => window.ember.S.mode), 'root');
  assert.equal(await rootTotal(), 500, 'parse from both threads');
  const r = await frameRect(page, 'parse');
  assert.equal(await frameRect(page, 'parse', 1), null, 'one merged frame');
  await page.mouse.move(r.x + 10, r.y + 5);
  assert.match(await page.innerText('#tooltip'), /total: 500 samples .* 100\.0% of all/);
  assert.match(await page.innerText('#tooltip'), /threads: MainThread, worker/);
  await shot(page, 'views-root');
  await sleep(200);
  assert.ok(srv.events.some((e) => e.focus === 'Some(Function(4))'), 'focus on the function reaches the editor');
  await page.click('#mode-tree');
});

test('inverted view lists functions by self time with their callers below', async () => {
  await page.click('#mode-inverted');
  const tops = await page.evaluate(() => {
    const { S } = window.ember; const t = S.tree; const out = {};
    for (let j = t.childStart[0]; j < t.childStart[1]; j++) { const c = t.children[j]; out[S.prof.funcLabel(t.func[c])] = t.total[c]; }
    return out;
  });
  assert.deepEqual(tops, { fetch: 300, helper: 100, idle: 500, main: 100, parse: 500, work: 100 });
  const idle = await frameRect(page, 'idle'), wl = await frameRect(page, 'worker_loop');
  assert.equal(idle.depth, 1);
  assert.equal(wl.depth, 2, 'the caller is below its callee');
  await shot(page, 'views-inverted');
  await page.click('#mode-tree');
});

test('sandwich: callers above, callees below one function', async () => {
  await reset();
  await clickFrame(page, 'work');
  await page.click('#mode-sandwich');
  assert.equal(await page.evaluate(() => window.ember.S.mode), 'sandwich');
  const callers = await page.evaluate(() => { const { S } = window.ember; return [S.tree.total[0], S.tree2.total[0]]; });
  assert.deepEqual(callers, [600, 600]);
  const main = await frameRect(page, 'main'), work = await frameRect(page, 'work');
  assert.ok(main.y < work.y, 'callers drawn above the function');
  assert.ok(await frameRect(page, 'worker_loop'));
  const parse = await frameRect(page, 'parse', 0, 'second');
  assert.ok(parse && parse.y > work.y, 'callees below');
  await shot(page, 'views-sandwich');
  await page.click('#mode-tree');
});

test('thread and wall/CPU/GIL filters', async () => {
  await reset();
  assert.equal(await rootTotal(), 1600);
  await page.selectOption('#thread', { label: 'worker (101)' });
  assert.equal(await rootTotal(), 600);
  assert.equal(await frameRect(page, 'main'), null);
  await page.selectOption('#thread', '');
  await page.selectOption('#kind', '1');
  assert.equal(await rootTotal(), 800, 'running samples only');
  assert.equal(await frameRect(page, 'idle'), null, 'idle waits');
  await page.selectOption('#kind', '2');
  assert.equal(await rootTotal(), 800, 'GIL held');
  await shot(page, 'views-cpu-filter');
  await page.selectOption('#kind', '0');
  assert.equal(await rootTotal(), 1600);
});

test('time view: heatmap and thread strips; dragging selects a range for the flamegraph', async () => {
  await page.click('#timebtn');
  const heat = await page.$eval('.heatmap', (c) => { const r = c.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; });
  const dims = await page.evaluate(() => { const t = window.ember.views.timeView; return [t.seconds, t.cellW(), t.strips.height]; });
  assert.equal(dims[0], 3, 'three seconds');
  assert.equal(dims[2], 28, 'one strip per thread');
  // Sample counts per cell: all 1600 samples land in the heatmap.
  assert.equal(await page.evaluate(() => window.ember.views.timeView.cells.reduce((a, b) => a + b, 0)), 1600);
  const cw = dims[1];
  await page.mouse.move(heat.x + cw / 2, heat.y + 2);
  assert.match(await page.getAttribute('.heatmap', 'title'), /^0 s \+ 0–20 ms: \d+ samples$/);
  // Drag down the whole first column: [0 s, 1 s).
  await page.mouse.move(heat.x + cw / 2, heat.y + 1);
  await page.mouse.down();
  await page.mouse.move(heat.x + cw / 2, heat.y + heat.h / 2, { steps: 3 });
  await page.mouse.move(heat.x + cw / 2, heat.y + heat.h - 1, { steps: 3 });
  await page.mouse.up();
  assert.deepEqual(await page.evaluate(() => [window.ember.S.filter.t0, window.ember.S.filter.t1]), [0, 1e9]);
  // main: samples i·3 ms for i ≤ 333 (334), worker: i·5 ms for i < 200 (200).
  assert.equal(await rootTotal(), 534);
  assert.match(await page.textContent('#range'), /Selected 0\.000–1\.000 s/);
  await shot(page, 'views-time-range');
  // Strips: drag over the last third selects the end of the recording.
  const strips = await page.$eval('.strips', (c) => { const r = c.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width }; });
  await page.mouse.move(strips.x + strips.w * 0.7, strips.y + 5);
  await page.mouse.down();
  await page.mouse.move(strips.x + strips.w - 1, strips.y + 5, { steps: 3 });
  await page.mouse.up();
  const [t0, t1] = await page.evaluate(() => [window.ember.S.filter.t0, window.ember.S.filter.t1]);
  assert.ok(t0 > 2.0e9 && t0 < 2.2e9 && t1 > 2.9e9, `${t0} ${t1}`);
  const inRange = await rootTotal();
  assert.ok(inRange > 400 && inRange < 600, `${inRange}`);
  await page.click('#clearrange');
  assert.equal(await rootTotal(), 1600);
  await page.click('#timebtn');
  assert.deepEqual(page.errors, []);
});

test('with several processes the thread filter groups threads by process and can take a whole one', async () => {
  const procs = await serveFiles(['procs'], root);
  try {
    const p2 = await openPage(browser, procs.url);
    const total = () => p2.evaluate(() => window.ember.S.tree.total[0]);
    const groups = await p2.evaluate(() => [...document.querySelectorAll('#thread optgroup')].map((g) => [g.label, [...g.children].map((o) => o.textContent)]));
    assert.deepEqual(groups, [
      ['process 200 · python app.py', ['all threads of 200', 'MainThread (200)']],
      ['process 201 · python -c child', ['all threads of 201', 'MainThread (201)', 'pool (202)']],
    ]);
    assert.equal(await total(), 600);
    await p2.selectOption('#thread', 'pid:201');
    assert.equal(await total(), 300, "the child's two threads");
    assert.equal(await frameRect(p2, 'parse') !== null && await frameRect(p2, 'idle') !== null, true);
    await p2.selectOption('#thread', { label: 'pool (202)' });
    assert.equal(await total(), 100);
    await p2.selectOption('#thread', 'pid:200');
    assert.equal(await total(), 300);
    assert.equal(await frameRect(p2, 'parse'), null, 'the parent never parsed');
    await shot(p2, 'views-process-filter');
    await p2.close();
  } finally {
    procs.stop();
  }
});
