// Call trees built from the profile's stack table: top-down (the stack table merged by
// function), rooted at one function (all its calls merged), inverted (bottom-up by self),
// and callers of one function (the top half of a sandwich). Nodes are struct-of-arrays.

export const FLAG_RUNNING = 1, FLAG_GIL = 2;
const NO_PARENT = 0xffffffff;

// Per-stack sample counts and thread masks under a filter:
// {threads: Set|null, t0, t1 (ns, null = all), flags: 0 | FLAG_RUNNING | FLAG_GIL}.
export function countStacks(prof, filter) {
  const v = prof.views();
  const counts = new Float64Array(prof.nStacks);
  const masks = new Uint32Array(prof.nStacks);
  const { threads, t0, t1, flags } = filter;
  const tAll = !threads;
  const ranged = t0 != null && t1 != null;
  let total = 0;
  for (let i = 0, n = v.stack.length; i < n; i++) {
    if (flags && (v.flags[i] & flags) === 0) continue;
    const th = v.thread[i];
    if (!tAll && !threads.has(th)) continue;
    if (ranged) { const t = v.time[i]; if (t < t0 || t >= t1) continue; }
    const s = v.stack[i];
    if (s >= counts.length) continue;
    counts[s] += 1;
    masks[s] |= 1 << Math.min(th, 31);
    total++;
  }
  return { counts, masks, total };
}

// Samples per thread under one node of a top-down tree (same filter as the tree), for the
// details panel: one pass over the samples, a range check on the node's pre-order span.
export function threadCounts(prof, filter, tree, node) {
  const v = prof.views();
  const out = new Float64Array(prof.threads.length);
  if (!tree.nodeOfStack) return null;
  const { threads, t0, t1, flags } = filter;
  const ranged = t0 != null && t1 != null;
  const lo = tree.pre[node], hi = tree.end[node], nodeOf = tree.nodeOfStack, pre = tree.pre;
  for (let i = 0, n = v.stack.length; i < n; i++) {
    if (flags && (v.flags[i] & flags) === 0) continue;
    const th = v.thread[i];
    if (threads && !threads.has(th)) continue;
    if (ranged) { const t = v.time[i]; if (t < t0 || t >= t1) continue; }
    const nd = nodeOf[v.stack[i]];
    if (nd >= 0 && pre[nd] >= lo && pre[nd] < hi) out[th]++;
  }
  return out;
}

// Function ids ordered by name, so children sort alphabetically (stable across updates).
export function nameRanks(prof) {
  const ids = Array.from({ length: prof.nFuncs }, (_, i) => i);
  ids.sort((a, b) => {
    const x = prof.funcLabel(a), y = prof.funcLabel(b);
    return x < y ? -1 : x > y ? 1 : a - b;
  });
  const rank = new Int32Array(prof.nFuncs);
  ids.forEach((f, i) => { rank[f] = i; });
  return rank;
}

class Builder {
  constructor(nFuncs) {
    this.NF = nFuncs + 1;
    this.cap = 1024;
    this.parent = new Int32Array(this.cap); this.func = new Int32Array(this.cap);
    this.self = new Float64Array(this.cap); this.mask = new Uint32Array(this.cap);
    this.depth = new Int32Array(this.cap);
    this.map = new Map();
    this.n = 1; this.parent[0] = -1; this.func[0] = -1;
  }
  grow() {
    this.cap *= 2;
    for (const k of ['parent', 'func', 'self', 'mask', 'depth']) {
      const a = new this[k].constructor(this.cap); a.set(this[k]); this[k] = a;
    }
  }
  child(node, func) {
    const key = node * this.NF + func;
    let c = this.map.get(key);
    if (c === undefined) {
      if (this.n === this.cap) this.grow();
      c = this.n++;
      this.parent[c] = node; this.func[c] = func; this.depth[c] = this.depth[node] + 1;
      this.map.set(key, c);
    }
    return c;
  }
}

export class Tree {
  constructor(b, rank) {
    const n = this.n = b.n;
    this.NF = b.NF; this.map = b.map;
    this.parent = b.parent.subarray(0, n); this.func = b.func.subarray(0, n);
    this.self = b.self.subarray(0, n); this.mask = b.mask.subarray(0, n); this.depth = b.depth.subarray(0, n);
    const total = this.total = new Float64Array(n);
    const maxDepth = this.maxDepth = new Int32Array(n);
    const nChildren = new Int32Array(n + 1);
    for (let i = n - 1; i >= 0; i--) {
      total[i] += this.self[i];
      if (maxDepth[i] < this.depth[i]) maxDepth[i] = this.depth[i];
      const p = this.parent[i];
      if (p >= 0) {
        total[p] += total[i];
        this.mask[p] |= this.mask[i];
        if (maxDepth[p] < maxDepth[i]) maxDepth[p] = maxDepth[i];
        nChildren[p]++;
      }
    }
    // Children lists (CSR), alphabetical by function name.
    const start = this.childStart = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) start[i + 1] = start[i] + nChildren[i];
    const kids = this.children = new Int32Array(Math.max(n - 1, 0));
    const fill = start.slice(0, n);
    for (let i = 1; i < n; i++) kids[fill[this.parent[i]]++] = i;
    const func = this.func;
    for (let i = 0; i < n; i++) {
      const a = start[i], z = start[i + 1];
      if (z - a > 1) kids.subarray(a, z).sort((x, y) => rank[func[x]] - rank[func[y]]);
    }
    // x offsets (in samples) and pre-order ranges, iteratively (stacks can be 5,000 deep).
    const x = this.x = new Float64Array(n);
    const order = this.order = new Int32Array(n);
    const pre = this.pre = new Int32Array(n);
    const end = this.end = new Int32Array(n);
    const stack = [0];
    let k = 0;
    while (stack.length) {
      const v = stack.pop();
      if (v < 0) { end[~v] = k; continue; }
      pre[v] = k; order[k++] = v;
      stack.push(~v);
      let cx = x[v];
      for (let j = start[v]; j < start[v + 1]; j++) { x[kids[j]] = cx; cx += total[kids[j]]; }
      for (let j = start[v + 1] - 1; j >= start[v]; j--) stack.push(kids[j]);
    }
  }
  childOf(node, func) { const c = this.map.get(node * this.NF + func); return c === undefined ? -1 : c; }
  funcPath(node) {
    const p = [];
    for (let v = node; v > 0; v = this.parent[v]) p.push(this.func[v]);
    return p.reverse();
  }
  // The node at a function path, or the deepest prefix that still exists.
  find(path) {
    let v = 0;
    for (const f of path) { const c = this.childOf(v, f); if (c < 0 || this.total[c] === 0) break; v = c; }
    return v;
  }
  nodesOfFunc(f) {
    const out = [];
    for (let i = 1; i < this.n; i++) if (this.func[i] === f && this.total[i] > 0) out.push(i);
    return out;
  }
}

// Which stacks carry any counted sample below them (so empty branches make no nodes).
function liveStacks(prof, counts) {
  const parent = prof.views().stackParent;
  const live = new Uint8Array(counts.length);
  for (let s = counts.length - 1; s >= 0; s--) {
    if (counts[s] > 0 || live[s]) { live[s] = 1; const p = parent[s]; if (p !== NO_PARENT) live[p] = 1; }
  }
  return live;
}

// Top-down tree: each stack node maps to a tree node through its parent's, so the cost is
// one map lookup per stack. Frames of hidden origins merge into their caller.
export function buildTopDown(prof, cs, opts) {
  const v = prof.views();
  const b = new Builder(prof.nFuncs);
  const hidden = opts.hiddenOrigins, origin = prof.funcOrigin;
  const nodeOf = new Int32Array(prof.nStacks).fill(-1);
  const live = liveStacks(prof, cs.counts);
  const resolve = (s0) => {
    // Parents normally precede children; resolve any that don't, iteratively.
    const chain = [];
    for (let s = s0; s !== NO_PARENT && nodeOf[s] < 0; s = v.stackParent[s]) chain.push(s);
    for (let i = chain.length - 1; i >= 0; i--) {
      const s = chain[i], p = v.stackParent[s];
      const pn = p === NO_PARENT ? 0 : nodeOf[p];
      const f = v.frameFunc[v.stackFrame[s]];
      nodeOf[s] = hidden.size && hidden.has(origin[f]) ? pn : b.child(pn, f);
    }
  };
  for (let s = 0; s < prof.nStacks; s++) {
    if (!live[s]) continue;
    if (nodeOf[s] < 0) resolve(s);
    const c = cs.counts[s];
    if (c) { const nd = nodeOf[s]; b.self[nd] += c; b.mask[nd] |= cs.masks[s]; }
  }
  const t = new Tree(b, opts.rank);
  t.nodeOfStack = nodeOf;
  // The hottest source line of each node: the line of its busiest stack node (samples
  // through it, callees included), for the tooltip and for opening the editor there.
  const incl = Float64Array.from(cs.counts);
  for (let s = prof.nStacks - 1; s >= 0; s--) { const p = v.stackParent[s]; if (p !== NO_PARENT && incl[s]) incl[p] += incl[s]; }
  const best = new Float64Array(t.n);
  t.line = new Int32Array(t.n);
  for (let s = 0; s < prof.nStacks; s++) {
    const nd = nodeOf[s];
    if (nd > 0 && incl[s] > best[nd] && !(hidden.size && hidden.has(origin[v.frameFunc[v.stackFrame[s]]]))) {
      best[nd] = incl[s]; t.line[nd] = v.frameLine[v.stackFrame[s]];
    }
  }
  return t;
}

// Trees from whole function paths: mode 'root' (path from the first call of func),
// 'inverted' (leaf first), 'callers' (from the first call of func up to the root).
export function buildFromPaths(prof, cs, opts, mode, func) {
  const v = prof.views();
  const b = new Builder(prof.nFuncs);
  const hidden = opts.hiddenOrigins, origin = prof.funcOrigin;
  let path = new Int32Array(1024);
  for (let s = 0; s < prof.nStacks; s++) {
    const c = cs.counts[s];
    if (!c) continue;
    let len = 0;
    for (let u = s; u !== NO_PARENT; u = v.stackParent[u]) {
      const f = v.frameFunc[v.stackFrame[u]];
      if (hidden.size && hidden.has(origin[f])) continue;
      if (len === path.length) { const p2 = new Int32Array(len * 2); p2.set(path); path = p2; }
      path[len++] = f;  // leaf first
    }
    let node = 0;
    if (mode === 'inverted') {
      for (let i = 0; i < len; i++) node = b.child(node, path[i]);
    } else {
      let first = -1;  // outermost call of func: the highest index, paths are leaf first
      for (let i = len - 1; i >= 0; i--) if (path[i] === func) { first = i; break; }
      if (first < 0) continue;
      if (mode === 'root') for (let i = first; i >= 0; i--) node = b.child(node, path[i]);
      else for (let i = first; i < len; i++) node = b.child(node, path[i]);
    }
    b.self[node] += c; b.mask[node] |= cs.masks[s];
  }
  return new Tree(b, opts.rank);
}

// Search: which functions match (name or file), and the share of samples under a match.
export function searchFuncs(prof, query) {
  if (!query) return null;
  let test;
  const m = /^\/(.*)\/([a-z]*)$/.exec(query);
  try {
    if (m) { const re = new RegExp(m[1], m[2].includes('i') ? 'i' : ''); test = (s) => re.test(s); }
    else { const q = query.toLowerCase(); test = (s) => s.toLowerCase().includes(q); }
  } catch (e) { return { error: e.message }; }
  const hit = new Uint8Array(prof.nFuncs);
  if (m) {
    for (let f = 0; f < prof.nFuncs; f++) if (test(prof.funcLabel(f)) || test(prof.funcFileName(f))) hit[f] = 1;
  } else {
    // Substring search over "name\0file" lowercased once per profile version.
    if (!prof.lowerKeys || prof.lowerKeys.version !== prof.version || prof.lowerKeys.keys.length !== prof.nFuncs) {
      const keys = [];
      for (let f = 0; f < prof.nFuncs; f++) keys.push(`${prof.funcLabel(f)}\0${prof.funcFileName(f)}`.toLowerCase());
      prof.lowerKeys = { version: prof.version, keys };
    }
    const q = query.toLowerCase(), keys = prof.lowerKeys.keys;
    for (let f = 0; f < prof.nFuncs; f++) if (keys[f].includes(q)) hit[f] = 1;
  }
  return { hit };
}

// Nodes that match (in x order) and the samples under any match (counted once).
export function searchNodes(tree, hit) {
  const under = new Uint8Array(tree.n);
  const nodes = [];
  let matched = 0;
  for (let k = 1; k < tree.n; k++) {
    const v = tree.order[k];
    if (tree.total[v] === 0) continue;
    const p = tree.parent[v];
    const isHit = hit[tree.func[v]] === 1;
    if (isHit) { nodes.push(v); if (!under[p]) matched += tree.total[v]; }
    under[v] = under[p] || (isHit ? 1 : 0);
  }
  return { nodes, matched };
}

// Differential: the BASE node at each NEW node's function path (-1 when none), matching
// functions by file and name across the two profiles.
export function matchTrees(newTree, newProf, baseTree, baseProf) {
  const key = (p, f) => p.funcFileName(f) + '\0' + p.funcLabel(f);
  const baseByKey = new Map();
  for (let f = 0; f < baseProf.nFuncs; f++) baseByKey.set(key(baseProf, f), f);
  const fmap = new Int32Array(newProf.nFuncs);
  for (let f = 0; f < newProf.nFuncs; f++) { const g = baseByKey.get(key(newProf, f)); fmap[f] = g === undefined ? -1 : g; }
  const baseOf = new Int32Array(newTree.n).fill(-1);
  const matchedBase = new Uint8Array(baseTree.n);
  baseOf[0] = 0; matchedBase[0] = 1;
  for (let k = 1; k < newTree.n; k++) {
    const v = newTree.order[k];
    const bp = baseOf[newTree.parent[v]];
    const g = fmap[newTree.func[v]];
    if (bp >= 0 && g >= 0) { const c = baseTree.childOf(bp, g); if (c >= 0 && baseTree.total[c] > 0) { baseOf[v] = c; matchedBase[c] = 1; } }
  }
  return { baseOf, matchedBase };
}
