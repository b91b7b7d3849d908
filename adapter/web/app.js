// The page: loads the profile, builds the selected view client-side and wires the controls.
// State lives in S; every change goes through rebuild() (new counts/tree) or redraw().

import { Profile, ORIGINS, watch, listProfiles, postEvent, fetchSource, serverGone, whenGone } from './data.js';
import { countStacks, threadCounts, nameRanks, buildTopDown, buildFromPaths, searchFuncs, searchNodes, matchTrees } from './tree.js';
import { FlameView, ROW } from './flame.js';
import { TimeView } from './timeview.js';
import { lineHeat, renderSource } from './source.js';

const $ = (id) => document.getElementById(id);
const ORIGIN_HUE = [{ h: 24, s: 88 }, { h: 205, s: 62 }, { h: 135, s: 42 }, { h: 0, s: 0 }];

const S = {
  index: 0, prof: null, rank: null, base: null, baseRank: null,
  filter: { threads: null, t0: null, t1: null, flags: 0 },
  hiddenOrigins: new Set(),
  mode: 'tree', func: -1, orientation: 'icicle',
  zoomPath: [], history: [], selected: -1,
  search: '', hit: null, matches: null, matchIdx: -1,
  lineHit: null, elided: false, source: null,
  counts: null, tree: null, tree2: null, diff: null, baseTree: null,
  progress: null, timings: {},
};
window.ember = { S, timings: S.timings };

const main = new FlameView($('flame'), { onHover: (h, e) => hover(main, h, e), onClick: (h, e) => click(main, h, e) });
const second = new FlameView($('flame2'), { orientation: 'icicle', onHover: (h, e) => hover(second, h, e), onClick: (h, e) => click(second, h, e) });
const timeView = new TimeView($('timehost'), { onSelect: (r) => { S.filter.t0 = r[0]; S.filter.t1 = r[1]; showRange(); rebuild(); } });

// ---------- formatting ----------
const pct = (a, b) => (b > 0 ? `${((100 * a) / b).toFixed(a / b < 0.001 && a > 0 ? 3 : 1)}%` : '–');
const secs = (n, prof = S.prof) => {
  const s = n * (prof.meta.sample_seconds || 0.001);
  return s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(1)} ms`;
};
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

function threadNames(mask, prof = S.prof) {
  const names = [];
  prof.threads.forEach((t, i) => { if (mask & (1 << Math.min(i, 31))) names.push(t.name || `tid ${t.tid}`); });
  return names.length > 4 ? `${names.slice(0, 4).join(', ')} +${names.length - 4}` : names.join(', ');
}

// ---------- colours ----------
function hash(s) { let h = 2166136261; for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619); return (h >>> 0) / 4294967296; }
const colorCache = new Map();
function originColor(prof, f, dim) {
  const key = f * 2 + (dim ? 1 : 0);
  let c = colorCache.get(key);
  if (!c) {
    const { h, s } = ORIGIN_HUE[prof.funcOrigin[f]] || ORIGIN_HUE[3];
    const l = 52 + 18 * hash(prof.funcLabel(f));
    c = dim ? `hsl(${h},${s * 0.25}%,${Math.min(l + 22, 94)}%)` : `hsl(${h + 8 * hash(prof.funcFileName(f))},${s}%,${l}%)`;
    colorCache.set(key, c);
  }
  return c;
}
function diffColor(v) {
  const d = S.diff;
  const share = S.tree.total[v] / S.tree.total[0];
  const b = d.baseOf[v];
  const baseShare = b >= 0 ? S.baseTree.total[b] / S.baseTree.total[0] : 0;
  const r = (share - baseShare) / Math.max(share, baseShare, 1e-12);
  const a = Math.min(1, Math.abs(r));
  if (a < 0.02) return 'hsl(0,0%,88%)';
  return r > 0 ? `hsl(0,85%,${92 - 42 * a}%)` : `hsl(220,85%,${92 - 42 * a}%)`;
}

// ---------- building views ----------
function opts(prof, rank) { return { hiddenOrigins: S.hiddenOrigins, rank }; }

function rebuild() {
  const t0 = performance.now();
  const prof = S.prof;
  if (!S.rank || S.rank.length !== prof.nFuncs) S.rank = nameRanks(prof);
  const cs = S.counts = countStacks(prof, S.filter);
  S.diff = null; S.baseTree = null; S.tree2 = null;
  if (S.mode === 'tree') S.tree = buildTopDown(prof, cs, opts(prof, S.rank));
  else if (S.mode === 'inverted') S.tree = buildFromPaths(prof, cs, opts(prof, S.rank), 'inverted');
  else if (S.mode === 'root') S.tree = buildFromPaths(prof, cs, opts(prof, S.rank), 'root', S.func);
  else if (S.mode === 'sandwich') {
    S.tree2 = buildFromPaths(prof, cs, opts(prof, S.rank), 'root', S.func);
    S.tree = buildFromPaths(prof, cs, opts(prof, S.rank), 'callers', S.func);
  }
  if (S.base && S.mode === 'tree') {
    if (!S.baseRank || S.baseRank.length !== S.base.nFuncs) S.baseRank = nameRanks(S.base);
    const bcs = countStacks(S.base, { threads: null, t0: null, t1: null, flags: S.filter.flags });
    S.baseTree = buildTopDown(S.base, bcs, opts(S.base, S.baseRank));
    S.diff = matchTrees(S.tree, prof, S.baseTree, S.base);
  }
  S.timings.build = performance.now() - t0;
  applySearch();
  redraw(true);
}

// Search and source-line highlights change colours only: repaint the canvases, nothing else.
function repaintHighlight() {
  if (S.elided && S.diff) return redraw();
  const highlight = S.lineHit || (S.hit && !S.hit.error ? S.hit.hit : null);
  main.highlight = highlight; main.draw();
  if (S.mode === 'sandwich') { second.highlight = highlight; second.draw(); }
}

function labelFor(tree, prof) {
  return (v) => (v === 0 ? `all (${tree.total[0]} samples)` : prof.funcLabel(tree.func[v]));
}

function redraw(newTree = false) {
  const t0 = performance.now();
  const prof = S.prof;
  const showElided = S.elided && S.diff;
  const tree = showElided ? S.baseTree : S.tree;
  const lp = showElided ? S.base : prof;
  const zoom = showElided ? 0 : tree.find(S.zoomPath);
  if (!showElided && zoom !== (S.zoomPath.length ? tree.find(S.zoomPath) : 0)) S.zoomPath = tree.funcPath(zoom);
  let color;
  if (showElided) color = (v, dim) => (S.diff.matchedBase[v] ? 'hsl(0,0%,86%)' : 'hsl(220,80%,62%)');
  else if (S.diff) color = (v) => diffColor(v);
  else color = (v, dim) => originColor(prof, tree.func[v], dim);
  const highlight = S.lineHit || (S.hit && !S.hit.error ? S.hit.hit : null);
  const title = S.mode === 'sandwich' ? `callers of ${prof.funcLabel(S.func)} ↑` : showElided ? 'elided: stacks only in BASE (blue)' : null;
  main.orientation = S.mode === 'sandwich' ? 'flame' : S.orientation;
  if ($('flame2').hidden !== (S.mode !== 'sandwich')) {
    $('flame2').hidden = S.mode !== 'sandwich';
    main.remeasure(); second.remeasure();
  }
  main.setTree(tree, { label: labelFor(tree, lp), color, highlight, zoom, title, hideRoot: S.mode === 'sandwich' });
  if (newTree) main.layout(true, false);
  main.selected = S.selected < tree.n ? S.selected : -1;
  main.draw();
  if (S.mode === 'sandwich') {
    second.setTree(S.tree2, { label: labelFor(S.tree2, prof), color: (v, dim) => originColor(prof, S.tree2.func[v], dim), highlight, zoom: 0, title: `callees of ${prof.funcLabel(S.func)} ↓`, hideRoot: true });
    second.layout(true, false);
    second.draw();
  }
  crumbs();
  scheduleDetails();
  legend();
  updateButtons();
  S.timings.draw = performance.now() - t0;
}

function legend() {
  const el = $('legend');
  if (S.diff && !S.elided) {
    el.innerHTML = `<span class="diffkey"><i style="background:linear-gradient(90deg,hsl(220,85%,50%),hsl(0,0%,88%),hsl(0,85%,50%))"></i> blue: faster than BASE · red: slower (share of total samples, widths from NEW)</span>`;
    return;
  }
  el.replaceChildren(...ORIGINS.map((name, o) => {
    const chip = document.createElement('span');
    chip.className = 'chip' + (S.hiddenOrigins.has(o) ? ' off' : '');
    chip.dataset.origin = name;
    chip.title = S.hiddenOrigins.has(o) ? `Show ${name} frames` : `Hide ${name} frames (merged into their callers)`;
    const { h, s } = ORIGIN_HUE[o];
    chip.innerHTML = `<i style="background:hsl(${h},${s}%,60%)"></i>${name}`;
    chip.onclick = () => { S.hiddenOrigins.has(o) ? S.hiddenOrigins.delete(o) : S.hiddenOrigins.add(o); rebuild(); };
    return chip;
  }));
}

function crumbs() {
  const el = $('crumbs');
  el.replaceChildren();
  const path = S.zoomPath;
  const add = (text, n) => {
    const s = document.createElement('span');
    s.textContent = text;
    s.onclick = () => zoomTo(S.tree.find(path.slice(0, n)));
    el.append(s, document.createTextNode(' › '));
  };
  add('all', 0);
  path.forEach((f, i) => add(S.prof.funcLabel(f), i + 1));
  el.lastChild?.remove();
  if (S.filter.t0 != null) el.append(document.createTextNode(`   · time ${(S.filter.t0 / 1e9).toFixed(3)}–${(S.filter.t1 / 1e9).toFixed(3)} s`));
}

function updateButtons() {
  for (const m of ['tree', 'inverted', 'sandwich', 'root']) $(`mode-${m}`).classList.toggle('on', S.mode === m);
  const hasFunc = S.selected > 0 && S.tree && S.selected < S.tree.n;
  $('mode-sandwich').disabled = !hasFunc && S.mode !== 'sandwich';
  $('mode-root').disabled = !hasFunc && S.mode !== 'root';
  $('orientation').textContent = S.orientation === 'flame' ? 'Flame ⇅' : 'Icicle ⇅';
  $('back').disabled = S.history.length === 0;
  $('elided').hidden = !S.base;
  $('elided').classList.toggle('on', S.elided);
}

// ---------- zoom, history, focus ----------
function currentZoom() { return S.tree.find(S.zoomPath); }
function zoomTo(node, push = true, tell = true) {
  if (!S.tree) return;
  const path = S.tree.funcPath(node);
  if (push && path.join() !== S.zoomPath.join()) S.history.push(S.zoomPath);
  S.zoomPath = path;
  main.setZoom(node);
  redraw();
  if (tell) sendFocus();
}
// The editor cleared its focus: show the whole profile again (Back returns to the zoom), and
// do not tell the editor what it just told us.
function editorClearedFocus() {
  if (!S.tree) return;
  clearTimeout(focusTimer);
  if (S.mode === 'root' || S.mode === 'sandwich') {
    S.mode = 'tree'; S.zoomPath = []; S.history = []; S.selected = -1;
    rebuild();
  } else if (S.zoomPath.length) {
    zoomTo(0, true, false);
  } else {
    return;
  }
  flash('the editor cleared its focus: showing the whole profile');
}
// Selection changes only move the outline (and the details panel).
function select(v) {
  S.selected = v;
  main.selected = v;
  main.drawOverlay();
  scheduleDetails();
  updateButtons();
}
// The editor follows the zoom; a burst of zooms (keys held, Back pressed fast) sends one.
let focusTimer = null;
function sendFocus() {
  clearTimeout(focusTimer);
  focusTimer = setTimeout(sendFocusNow, 120);
}
function sendFocusNow() {
  if (S.mode === 'tree') postEvent(S.zoomPath.length ? { type: 'focus', p: S.index, path: S.zoomPath } : { type: 'focus', p: S.index });
  else if (S.mode === 'root' || S.mode === 'sandwich') postEvent({ type: 'focus', p: S.index, function: S.func });
}
function back() {
  if (!S.history.length) return;
  S.zoomPath = S.history.pop();
  const z = S.tree.find(S.zoomPath);
  main.setZoom(z);
  redraw();
  sendFocus();
}
function reset() { zoomTo(0); }

function setMode(mode, func = S.func) {
  S.mode = mode; S.func = func;
  S.zoomPath = []; S.history = []; S.selected = -1;
  rebuild();
  sendFocus();
}

// ---------- interaction ----------
function click(view, hit, e) {
  const tree = view.tree;
  if (hit.node < 0) {  // placeholder: zoom into its parent (or its biggest folded child)
    const p = -hit.node - 1;
    let target = p;
    if (p === view.zoom) {
      let best = -1;
      for (let j = tree.childStart[p]; j < tree.childStart[p + 1]; j++) { const c = tree.children[j]; if (best < 0 || tree.total[c] > tree.total[best]) best = c; }
      if (best >= 0) target = best;
    }
    if (view === main) { S.selected = target; zoomTo(target); }
    return;
  }
  const v = hit.node;
  if (e.ctrlKey || e.metaKey) { if (v > 0) openInEditor(view, v); return; }
  if (view !== main) {  // sandwich callees: set that function as the sandwich's centre
    if (v > 0) setMode('sandwich', tree.func[v]);
    return;
  }
  if (S.elided && S.diff) return;
  S.selected = v;
  zoomTo(v);
  if (v > 0) showSource(tree.func[v], lineOf(tree, v));
}

// The line to show for a frame: its hottest line when the view knows it, else the def line.
function lineOf(tree, v, prof = S.prof) {
  return (tree.line && tree.line[v]) || prof.funcLine[tree.func[v]];
}
function openInEditor(view, v) {
  const f = view.tree.func[v];
  const line = lineOf(view.tree, v);
  if (serverGone()) { flash('Ember has stopped: it cannot open the editor'); return; }
  postEvent({ type: 'open', p: S.index, file: S.prof.funcFileName(f), line });
  flash(`Opening ${S.prof.funcFileName(f)}:${line} in the editor`);
}

// A message in the status line: it fades after 1.5 s, or with `sticky` stays until the user
// clicks or presses a key. Progress updates (several a second while recording) and the
// status the page sets once loaded do not write over it.
let note = null;
function flash(msg, sticky = false) {
  clearTimeout(note?.timer);
  note = { msg, sticky };
  if (!sticky) note.timer = setTimeout(() => { if (note?.msg === msg) { note = null; statusText(); } }, 1500);
  statusText();
}
for (const type of ['pointerdown', 'keydown']) {
  document.addEventListener(type, () => { if (note?.sticky) { note = null; statusText(); } }, true);
}

const tip = $('tooltip');
function hover(view, hit, e) {
  if (!hit) { tip.hidden = true; return; }
  const t0 = performance.now();
  const tree = view.tree, prof = (S.elided && S.diff && view === main) ? S.base : S.prof;
  if (hit.node < 0) {
    const p = -hit.node - 1;
    tip.innerHTML = `<b>${hit.folded} frame${hit.folded > 1 ? 's' : ''} too small to show</b><div class="sub">under ${esc(p ? prof.funcLabel(tree.func[p]) : 'all')} — click to zoom in</div>`;
  } else {
    const v = hit.node;
    const all = tree.total[0], zr = tree.total[view.zoom];
    if (v === 0) {
      tip.innerHTML = `<b>all</b><div>${tree.total[0]} samples (${secs(tree.total[0], prof)})</div>`;
    } else {
      const f = tree.func[v];
      let diff = '';
      if (S.diff && view === main && !S.elided) {
        const b = S.diff.baseOf[v];
        const ns = tree.total[v] / all, bs = b >= 0 ? S.baseTree.total[b] / S.baseTree.total[0] : 0;
        const d = (ns - bs) * 100;
        diff = `<div class="${d > 0 ? 'up' : 'down'}">BASE ${(bs * 100).toFixed(1)}% → NEW ${(ns * 100).toFixed(1)}% (${d > 0 ? '+' : ''}${d.toFixed(1)} pts)${b < 0 ? ' · new in NEW' : ''}</div>`;
      }
      const hot = tree.line && tree.line[v] && tree.line[v] !== prof.funcLine[f] ? ` · hottest line ${tree.line[v]}` : '';
      tip.innerHTML = `<b>${esc(prof.funcLabel(f))}</b><div class="sub">${esc(prof.funcFileName(f))}:${prof.funcLine[f]} · ${ORIGINS[prof.funcOrigin[f]]}${hot}</div>
        <div>total: ${tree.total[v]} samples (${secs(tree.total[v], prof)}) · ${pct(tree.total[v], all)} of all${inZoom(tree, v, view.zoom) ? ` · ${pct(tree.total[v], zr)} of zoom` : ''}</div>
        <div>self: ${tree.self[v]} samples (${secs(tree.self[v], prof)}) · ${pct(tree.self[v], all)} of all</div>
        <div class="sub">threads: ${esc(threadNames(tree.mask[v], prof))}</div>${diff}
        <div class="sub">click: zoom · Ctrl/Cmd-click: open in editor</div>`;
    }
  }
  tip.hidden = false;
  const w = tip.offsetWidth, h = tip.offsetHeight;
  tip.style.left = `${Math.min(e.clientX + 14, innerWidth - w - 4)}px`;
  tip.style.top = `${e.clientY + 16 + h > innerHeight ? e.clientY - h - 8 : e.clientY + 16}px`;
  S.timings.hover = performance.now() - t0;
}

// Whether `v` is the zoomed frame or under it: the frames drawn above a zoom (its callers)
// hold more than the zoom, so a share "of zoom" means nothing for them (it read 233%).
function inZoom(tree, v, zoom) {
  if (!zoom) return false;
  for (let n = v; n >= 0; n = tree.parent[n]) if (n === zoom) return true;
  return false;
}

// ---------- details panel ----------
// Filled after the flamegraph is painted: for a frame near the root it walks most of the tree
// (callees by function and module) and every sample (per-thread counts), which should not
// delay the zoom itself.
let detailsPending = false;
function scheduleDetails() {
  if (detailsPending) return;
  detailsPending = true;
  requestAnimationFrame(() => setTimeout(() => {
    detailsPending = false;
    const t = performance.now();
    details();
    S.timings.details = performance.now() - t;
  }, 0));
}
function details() {
  const el = $('details');
  const tree = S.tree, v = S.selected, prof = S.prof;
  // Same tree, same frame: the panel is already right (it walks the frame's whole subtree).
  if (S.detailsOf && S.detailsOf[0] === tree && S.detailsOf[1] === v) return;
  S.detailsOf = [tree, v];
  el.dataset.node = v;  // tests wait for the panel of the selected frame
  if (!tree || v <= 0 || v >= tree.n || tree.total[v] === 0) {
    el.innerHTML = `<p class="hint">Click a frame to zoom and see its details; Ctrl/Cmd-click opens it in the editor. Arrows move, Enter zooms, Backspace goes back, Escape resets; / searches.</p>`;
    return;
  }
  const f = tree.func[v], all = tree.total[0];
  const instances = tree.nodesOfFunc(f);
  let instTotal = 0;
  // total of the function counted once per sample: instances not under another instance
  for (const u of instances) { let under = false; for (let p = tree.parent[u]; p > 0; p = tree.parent[p]) if (tree.func[p] === f) { under = true; break; } if (!under) instTotal += tree.total[u]; }
  const byFunc = new Map(), byModule = new Map();
  for (let k = tree.pre[v] + 1; k < tree.end[v]; k++) {
    const u = tree.order[k], s = tree.self[u];
    if (!s) continue;
    const g = tree.func[u];
    byFunc.set(g, (byFunc.get(g) || 0) + s);
    const m = prof.funcFileName(g);
    byModule.set(m, (byModule.get(m) || 0) + s);
  }
  const top = (map, label) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)
    .map(([k, n]) => `<tr><td class="sub">${esc(label(k))}</td><td class="num">${n}</td><td class="num">${pct(n, tree.total[v])}</td></tr>`).join('');
  const inst = instances.sort((a, b) => tree.total[b] - tree.total[a]).slice(0, 12).map((u) => {
    const caller = tree.parent[u] > 0 ? prof.funcLabel(tree.func[tree.parent[u]]) : 'root';
    return `<tr class="inst" data-node="${u}"><td><span class="link">${u === v ? '▸ ' : ''}from ${esc(caller)}</span></td><td class="num">${tree.total[u]}</td><td class="num">${secs(tree.total[u])}</td><td class="num">${pct(tree.total[u], all)}</td></tr>`;
  }).join('');
  el.innerHTML = `<h3 id="d-name">${esc(prof.funcLabel(f))}</h3>
    <div class="sub">${esc(prof.funcFileName(f))}:${prof.funcLine[f]} · ${ORIGINS[prof.funcOrigin[f]]}</div>
    <table>
      <tr><td>total</td><td class="num" id="d-total">${tree.total[v]}</td><td class="num">${secs(tree.total[v])}</td><td class="num">${pct(tree.total[v], all)}</td></tr>
      <tr><td>self</td><td class="num" id="d-self">${tree.self[v]}</td><td class="num">${secs(tree.self[v])}</td><td class="num">${pct(tree.self[v], all)}</td></tr>
      <tr><td>function, all calls</td><td class="num" id="d-func">${instTotal}</td><td class="num">${secs(instTotal)}</td><td class="num">${pct(instTotal, all)}</td></tr>
    </table>
    <div style="margin-top:4px"><button id="d-root">Set as root</button> <button id="d-sandwich">Sandwich</button> <button id="d-open">Open in editor</button> <button id="d-source">Source</button></div>
    <h4>Threads</h4><div class="sub" id="d-threads">${threadsDetail(tree, v)}</div>
    <h4>Instances of this function (${instances.length})</h4><table id="d-instances">${inst}</table>
    <h4>Top callees by function (self time below this frame)</h4><table id="d-callees">${top(byFunc, (g) => prof.funcLabel(g)) || '<tr><td class="sub">none</td></tr>'}</table>
    <h4>Top callees by module</h4><table id="d-modules">${top(byModule, (m) => m) || '<tr><td class="sub">none</td></tr>'}</table>`;
  $('d-root').onclick = () => setMode('root', f);
  $('d-sandwich').onclick = () => setMode('sandwich', f);
  $('d-open').onclick = () => openInEditor(main, v);
  $('d-source').onclick = () => showSource(f);
  el.querySelectorAll('tr.inst').forEach((tr) => { tr.onclick = () => { S.selected = +tr.dataset.node; zoomTo(S.selected); }; });
}

function threadsDetail(tree, v) {
  const counts = threadCounts(S.prof, S.filter, tree, v);
  if (!counts) return esc(threadNames(tree.mask[v]));
  return [...counts.entries()].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).slice(0, 10)
    .map(([th, n]) => `${esc(S.prof.threads[th].name || `tid ${S.prof.threads[th].tid}`)}: ${n} (${pct(n, tree.total[v])})`).join(' · ');
}

// ---------- source view ----------
async function showSource(f, focusLine = null) {
  const prof = S.prof;
  const file = prof.funcFileName(f);
  const panel = $('sourcepanel');
  try {
    const text = await fetchSource(S.index, file);
    S.source = { file, text, func: f };
    drawSource(focusLine || prof.funcLine[f]);
  } catch (e) {
    panel.innerHTML = `<div class="error">${esc(e.message)}</div>`;
    S.source = null;
  }
}
function drawSource(focusLine) {
  if (!S.source) return;
  const heat = lineHeat(S.prof, S.counts.counts, S.source.file);
  renderSource($('sourcepanel'), {
    file: S.source.file, text: S.source.text, heat, allTotal: S.counts.total,
    seconds: S.prof.meta.sample_seconds || 0.001, focusLine,
    selectedLines: S.lineSel ? new Set([S.lineSel]) : null,
    onLine: (n) => selectLine(n),
  });
}
// A source line highlights the functions with frames at that line (exact, from the frame table).
function selectLine(n) {
  const prof = S.prof, v = prof.views();
  if (S.lineSel === n) { S.lineSel = null; S.lineHit = null; }
  else {
    S.lineSel = n;
    const fileId = prof.strings.indexOf(S.source.file);
    const hit = new Uint8Array(prof.nFuncs);
    for (let fr = 0; fr < v.frameFunc.length; fr++) if (v.frameLine[fr] === n && prof.funcFile[v.frameFunc[fr]] === fileId) hit[v.frameFunc[fr]] = 1;
    S.lineHit = hit;
  }
  const m = S.lineHit ? searchNodes(S.tree, S.lineHit) : null;
  $('matches').textContent = m ? `line ${n}: ${m.nodes.length} frames · ${pct(m.matched, S.tree.total[0])}` : '';
  redraw();
  drawSource(null);
}

// ---------- search ----------
function applySearch() {
  S.hit = searchFuncs(S.prof, S.search);
  S.matches = S.hit && !S.hit.error ? searchNodes(S.tree, S.hit.hit) : null;
  const el = $('matches');
  if (!S.search) { el.textContent = ''; S.matchIdx = -1; return; }
  if (S.hit.error) { el.textContent = `bad regex: ${S.hit.error}`; return; }
  const m = S.matches;
  if (S.matchIdx >= m.nodes.length) S.matchIdx = -1;
  el.textContent = `${S.matchIdx >= 0 ? `${S.matchIdx + 1}/` : ''}${m.nodes.length} matches · ${pct(m.matched, S.tree.total[0])} of total`;
}
function stepMatch(dir) {
  if (!S.matches || !S.matches.nodes.length) return;
  const n = S.matches.nodes.length;
  S.matchIdx = S.matchIdx < 0 ? (dir > 0 ? 0 : n - 1) : (S.matchIdx + dir + n) % n;
  const v = S.matches.nodes[S.matchIdx];
  S.selected = v;
  // Zoom out to the nearest ancestor that shows it wide enough, if needed.
  const z = currentZoom();
  const inside = S.tree.pre[v] >= S.tree.pre[z] && S.tree.pre[v] < S.tree.end[z];
  if (!inside || S.tree.total[v] / S.tree.total[z] * main.W < 4) zoomTo(S.tree.parent[v] >= 0 ? S.tree.parent[v] : 0);
  else redraw();
  main.reveal(v); main.draw();
  applySearch();
}

// ---------- keyboard ----------
// Arrows move the selection over the frames drawn: the zoomed frame and what is under it, and
// its callers drawn above it at full width. Under a caller only the way to the zoom is drawn,
// and the zoomed frame and its callers have no siblings on screen, so the selection never
// lands on a frame that cannot be seen.
const within = (t, v, z) => t.pre[v] >= t.pre[z] && t.pre[v] < t.end[z];  // v is z or under it
function shown(t, v, z) {
  if (v === 0 && main.off) return false;  // the sandwich's callers hide their root
  return within(t, v, z) || within(t, z, v);
}
function move(key) {
  const t = S.tree, z = currentZoom();
  let v = S.selected >= 0 && S.selected < t.n && shown(t, S.selected, z) ? S.selected : z;
  const deeper = S.orientation === 'flame' || S.mode === 'sandwich' ? 'ArrowUp' : 'ArrowDown';
  const shallower = deeper === 'ArrowUp' ? 'ArrowDown' : 'ArrowUp';
  const above = v !== z && within(t, z, v);  // a caller of the zoomed frame
  if (key === deeper) {
    let best = -1;
    for (let j = t.childStart[v]; j < t.childStart[v + 1]; j++) {
      const c = t.children[j];
      if (above ? within(t, z, c) : t.total[c] > 0 && (best < 0 || t.total[c] > t.total[best])) best = c;
    }
    if (best >= 0) v = best;
  } else if (key === shallower) {
    if (t.parent[v] >= 0 && shown(t, t.parent[v], z)) v = t.parent[v];
  } else {
    const p = t.parent[v];
    if (p < 0 || v === z || above) return;
    const sib = [];
    for (let j = t.childStart[p]; j < t.childStart[p + 1]; j++) if (t.total[t.children[j]] > 0) sib.push(t.children[j]);
    const i = sib.indexOf(v) + (key === 'ArrowRight' ? 1 : -1);
    if (i < 0 || i >= sib.length) return;
    v = sib[i];
  }
  select(v);
  main.reveal(v);
}
document.addEventListener('keydown', (e) => {
  const el = e.target;
  // Keys typed into a field or a list are its own (the search box adds Enter and Escape).
  if (el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' || el.isContentEditable) {
    if (el.id === 'search' && e.key === 'Enter') { stepMatch(e.shiftKey ? -1 : 1); e.preventDefault(); }
    if (el.id === 'search' && e.key === 'Escape') el.blur();
    return;
  }
  // Enter and Space on a focused button press that button only: Enter also zoomed to the
  // selection first, so "← Back" undid that zoom instead of going back. Arrows, Backspace
  // and Escape, which buttons do not use, still drive the flamegraph.
  if ((e.key === 'Enter' || e.key === ' ') && el.closest('button, a[href]')) return;
  // With Alt, Ctrl or Cmd the keys are the browser's (Alt+Left: previous page).
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  if (!S.tree) return;
  if (e.key === 'Backspace') { back(); e.preventDefault(); }
  else if (e.key === 'Escape') { S.selected = -1; reset(); }
  else if (e.key === 'Enter') { if (S.selected >= 0) zoomTo(S.selected); }
  else if (e.key.startsWith('Arrow')) { move(e.key); e.preventDefault(); }
  else if (e.key === '/') { $('search').focus(); e.preventDefault(); }
});

// ---------- filters and controls ----------
$('search').addEventListener('input', (e) => {
  S.search = e.target.value.trim(); S.matchIdx = -1; S.lineHit = null; S.lineSel = null;
  const t0 = performance.now();
  applySearch(); repaintHighlight();
  S.timings.search = performance.now() - t0;
});
$('next').onclick = () => stepMatch(1);
$('prev').onclick = () => stepMatch(-1);
$('orientation').onclick = () => { S.orientation = S.orientation === 'flame' ? 'icicle' : 'flame'; redraw(true); };
$('mode-tree').onclick = () => setMode('tree');
$('mode-inverted').onclick = () => setMode('inverted');
$('mode-sandwich').onclick = () => { const f = S.mode === 'sandwich' ? S.func : S.tree.func[S.selected]; setMode('sandwich', f); };
$('mode-root').onclick = () => { const f = S.mode === 'root' ? S.func : S.tree.func[S.selected]; setMode('root', f); };
$('back').onclick = back;
$('reset').onclick = reset;
// A thread ("3"), or every thread of one process ("pid:201") when the profile has several.
function threadSet(value, prof = S.prof) {
  if (value === '') return null;
  if (!value.startsWith('pid:')) return new Set([+value]);
  const pid = +value.slice(4);
  return new Set(prof.threads.flatMap((t, i) => (t.pid === pid ? [i] : [])));
}
$('thread').onchange = (e) => { S.filter.threads = threadSet(e.target.value); refreshTime(); rebuild(); };
$('kind').onchange = (e) => { S.filter.flags = +e.target.value; refreshTime(); rebuild(); };
$('timebtn').onclick = () => {
  $('time').hidden = !$('time').hidden;
  $('timebtn').classList.toggle('on', !$('time').hidden);
  refreshTime();
  main.remeasure(); second.remeasure(); main.layout(false);
};
$('clearrange').onclick = () => { S.filter.t0 = S.filter.t1 = null; timeView.clear(); showRange(); rebuild(); };
$('elided').onclick = () => { S.elided = !S.elided; redraw(true); };
$('compare').onchange = (e) => compareWith(e.target.value);
async function compareWith(v) {
  S.elided = false;
  if (v === '') { S.base = null; rebuild(); return; }
  const base = new Profile(+v);
  await base.load(true);
  S.base = base; S.baseRank = null;
  S.mode = 'tree';
  rebuild();
  window.ember.compared = true;
}
$('profile').onchange = (e) => start(+e.target.value);

function refreshTime() { if (!$('time').hidden) timeView.setData(S.prof, S.filter); }
function showRange() {
  const has = S.filter.t0 != null;
  $('range').textContent = has ? `Selected ${(S.filter.t0 / 1e9).toFixed(3)}–${(S.filter.t1 / 1e9).toFixed(3)} s` : '';
  $('clearrange').hidden = !has;
}
function timedControls() {
  const timed = !!S.prof.meta.timed;
  $('timebtn').hidden = !timed;
  if (!timed) $('time').hidden = true;
}
function fillThreads() {
  const sel = $('thread');
  const cur = sel.value;
  const prof = S.prof, option = (t, i) => new Option(`${t.name || 'thread'} (${t.tid})`, String(i));
  const pids = [...new Set(prof.threads.map((t) => t.pid))];
  if (pids.length < 2) {
    sel.replaceChildren(new Option('All threads', ''), ...prof.threads.map(option));
  } else {
    // Several processes (--subprocesses): one group each, headed by "all of its threads".
    sel.replaceChildren(new Option('All processes', ''), ...pids.map((pid) => {
      const group = document.createElement('optgroup');
      const cmd = (prof.processes.find((q) => q.pid === pid)?.command_line || []).join(' ');
      group.label = `process ${pid}${cmd ? ` · ${cmd}` : ''}`;
      group.append(new Option(`all threads of ${pid}`, `pid:${pid}`), ...prof.threads.flatMap((t, i) => (t.pid === pid ? [option(t, i)] : [])));
      return group;
    }));
  }
  sel.value = cur;
  // A live profile gains threads: a process filter takes in its new ones.
  if (cur.startsWith('pid:')) S.filter.threads = threadSet(cur);
}

// ---------- live updates ----------
function statusText() {
  const p = S.progress, n = S.prof ? S.prof.nSamples : 0;
  const el = $('status');
  el.classList.toggle('notice', !!note?.sticky);
  if (note) {
    el.textContent = note.msg;
    el.classList.remove('live');
  } else if (p && !p.finished) {
    el.textContent = `● recording · ${p.samples.toLocaleString('en-US')} samples · ${Math.round(p.rate).toLocaleString('en-US')}/s`;
    el.classList.add('live');
  } else {
    const m = S.prof?.meta || {};
    const dur = m.timed && m.duration_ns ? ` in ${(m.duration_ns / 1e9).toFixed(2)} s` : m.timed ? '' : ` · ${secs(n)}`;
    el.textContent = `${n.toLocaleString('en-US')} samples${dur}`;
    el.classList.remove('live');
  }
}
let loading = false, pending = false, lastLoad = 0, loadedGen = -1, liveStream = null;
async function refresh(full) {
  if (loading) { pending = true; return; }
  loading = true;
  try {
    const changed = await S.prof.load(full);
    if (full) colorCache.clear();  // function ids may mean other functions now
    lastLoad = performance.now();
    if (changed) { fillThreads(); timedControls(); rebuild(); refreshTime(); }
  } catch (e) { if (!serverGone()) flash(e.message); }
  loading = false;
  statusText();
  if (pending) { pending = false; setTimeout(() => refresh(false), 200); }
}
function onProgress(p) {
  const gen = p.generation;
  S.progress = p;
  statusText();
  if (gen === loadedGen) return;
  loadedGen = gen;
  // At most about once a second while recording; a finished profile reloads in full (it
  // may have been replaced by a newer one).
  const wait = Math.max(0, 700 - (performance.now() - lastLoad));
  setTimeout(() => refresh(p.finished), p.finished ? 0 : wait);
}

// ---------- the server stopped ----------
// The page outlives the server (`ember serve` ended, the editor's session closed). The
// profile stays in the page, so zoom, search and the views keep working; what needs the
// server does not (sources, the editor, new samples, other profiles), and a banner says so
// once, with where the profile is and how to see it again.
const PROFILE_FILE = /\.(ember|partial|txt|collapsed|folded|json|perf|austin)$/i;
function stopped() {
  liveStream?.close();
  if (S.progress) S.progress = { ...S.progress, finished: true };  // no longer "recording"
  const name = $('profile').options[S.index]?.textContent || '';
  const saved = PROFILE_FILE.test(name) && !/\s/.test(name)
    ? `The profile is in <code>${esc(name)}</code>: <code>ember serve ${esc(name)}</code> opens it again.`
    : 'The profile is saved where Ember wrote it (the output file of <code>ember record</code>, or the workspace\'s <code>.ember/</code> folder for an editor session): <code>ember serve FILE</code> opens it again.';
  const el = $('gone');
  el.innerHTML = `<b>Ember has stopped</b>: this page is no longer live. Zoom, search and the views still work; sources, links to the editor and new samples do not. ${saved}`;
  el.hidden = false;
  $('profile').disabled = true; $('compare').disabled = true;
  statusText();
  main.remeasure(); second.remeasure(); main.layout(false);  // the banner took some height
}
whenGone(stopped);

// The editor can open the page on one function (a code lens): `&file=...&function=NAME`
// (`&view=sandwich` for its callers and callees), matched by name and file suffix.
function initialFocus() {
  const q = new URLSearchParams(location.search);
  const name = q.get('function');
  if (!name || S.index !== 0 || S.focusApplied) return false;
  S.focusApplied = true;
  const file = q.get('file') || '';
  const prof = S.prof;
  let f = -1;
  for (let g = 0; g < prof.nFuncs; g++) {
    if (prof.funcLabel(g) !== name) continue;
    const gf = prof.funcFileName(g);
    if (!file || gf === file || file.endsWith('/' + gf) || gf.endsWith('/' + file)) { f = g; break; }
  }
  // Shown until the user acts: the page opens on the whole profile instead, which is easy to
  // take for the function's own view.
  if (f < 0) { flash(`${name}${file ? ` (${file})` : ''} is not in this profile: showing all of it`, true); return false; }
  S.mode = q.get('view') === 'sandwich' ? 'sandwich' : 'root';
  S.func = f;
  rebuild();
  return true;
}

async function start(index) {
  S.index = index;
  S.prof = new Profile(index);
  S.rank = null; S.zoomPath = []; S.history = []; S.selected = -1;
  colorCache.clear();
  const t0 = performance.now();
  await S.prof.load(true);
  S.timings.load = performance.now() - t0;
  fillThreads();
  timedControls();
  if (!initialFocus()) rebuild();
  S.timings.firstPaint = performance.now() - t0;
  S.timings.readyAt = performance.now();  // since navigation start
  statusText();
  liveStream?.close();
  loadedGen = -1;
  liveStream = window.ember.live = watch(index, (p) => { if (loadedGen === -1) { loadedGen = p.generation; S.progress = p; statusText(); return; } onProgress(p); },
    (f) => { if (f.focus === null) editorClearedFocus(); });
  window.ember.ready = true;
}

(async () => {
  const list = await listProfiles();
  $('profile').replaceChildren(...list.map((p) => new Option(p.name, String(p.index))));
  $('profile').hidden = list.length < 2;
  $('compare').replaceChildren(new Option('Compare with…', ''), ...list.map((p) => new Option(`base: ${p.name}`, String(p.index))));
  $('compare').hidden = list.length < 2;
  try {
    await start(0);
    // `&base=N` opens the differential view against served profile N (`ember diff`).
    const base = new URLSearchParams(location.search).get('base');
    if (base && list.some((p) => String(p.index) === base)) {
      $('compare').value = base;
      await compareWith(base);
    }
  } catch (e) { $('status').textContent = e.message; console.error(e.stack); }
})();

// Test and benchmark hooks: where a function's frame is drawn on screen, by name.
window.ember.frameRect = (name, which = 0, view = 'main') => {
  const fv = view === 'main' ? main : second;
  const prof = S.elided && S.diff && view === 'main' ? S.base : S.prof;
  const h = fv.hits, r = fv.canvas.getBoundingClientRect();
  let k = 0;
  for (let i = 0; i < h.node.length; i++) {
    const v = h.node[i];
    if (v > 0 && prof.funcLabel(fv.tree.func[v]) === name && k++ === which) {
      return { x: r.left + h.x[i], y: r.top + fv.rowY(h.depth[i]), w: h.w[i], h: ROW, node: v, depth: h.depth[i] };
    }
  }
  return null;
};
window.ember.placeholders = () => main.hits.node.filter((v) => v < 0).length;
window.ember.zoomName = () => { const z = currentZoom(); return z > 0 ? S.prof.funcLabel(S.tree.func[z]) : 'all'; };
window.ember.selectedName = () => (S.selected > 0 ? S.prof.funcLabel(S.tree.func[S.selected]) : null);
window.ember.views = { main, second, timeView };

// Benchmark hooks (bench/web.sh): drive the real event handlers synchronously and time them.
window.ember.bench = {
  // Clicks the k-th widest drawn frame below the zoom root (k cycles), returns ms.
  zoomInto(k) {
    const h = main.hits, r = main.canvas.getBoundingClientRect();
    const idx = [];
    for (let i = 0; i < h.node.length; i++) if (h.node[i] > 0 && h.w[i] > 4 && h.node[i] !== main.zoom) idx.push(i);
    if (!idx.length) return null;
    const i = idx[k % idx.length];
    const t = performance.now();
    main.canvas.dispatchEvent(new MouseEvent('click', { clientX: r.left + h.x[i] + 2, clientY: r.top + main.rowY(h.depth[i]) + 5, bubbles: true }));
    return performance.now() - t;
  },
  hoverAt(fx, fy) {
    const r = main.canvas.getBoundingClientRect();
    const t = performance.now();
    main.canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: r.left + fx * r.width, clientY: r.top + fy * r.height, bubbles: true }));
    return performance.now() - t;
  },
  search(q) {
    const el = document.getElementById('search');
    el.value = q;
    const t = performance.now();
    el.dispatchEvent(new Event('input', { bubbles: true }));
    return performance.now() - t;
  },
  reset() { const t = performance.now(); reset(); return performance.now() - t; },
};
