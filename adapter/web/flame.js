// Canvas flamegraph of one Tree: draws only what is visible (rows in view, frames at least
// MIN_W pixels wide); narrower siblings fold into a hatched placeholder until zoomed, so
// nothing is dropped and a frame costs nothing when it cannot be seen.

export const ROW = 18;
const MIN_W = 2;
const FONT = '12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';

export class FlameView {
  constructor(host, { orientation = 'icicle', onHover, onClick } = {}) {
    this.host = host;
    this.orientation = orientation;
    this.onHover = onHover; this.onClick = onClick;
    this.scroll = document.createElement('div');
    this.scroll.className = 'flame-scroll';
    // The frames canvas and, over it, an overlay for hover/selection outlines, so moving the
    // mouse repaints one outline rather than every frame.
    this.sticky = document.createElement('div');
    this.sticky.className = 'flame-sticky';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'flame-canvas';
    this.overlay = document.createElement('canvas');
    this.overlay.className = 'flame-overlay';
    this.sticky.append(this.canvas, this.overlay);
    this.spacer = document.createElement('div');
    this.scroll.append(this.sticky, this.spacer);
    host.append(this.scroll);
    this.ctx = this.canvas.getContext('2d');
    this.tree = null; this.zoom = 0; this.off = 0;
    this.geom = { scrollTop: 0, bottom: 0, H: 0 }; this.selected = -1; this.hover = -1;
    this.hits = { node: [], x: [], w: [], depth: [] };
    // Where the mouse rests over the canvas (null when it is elsewhere): a redraw under a still
    // mouse (a click's zoom, keys, scrolling, new samples) hovers that point again.
    this.pointer = null;
    // Geometry is tracked from events (resize, scroll) rather than read from the DOM while
    // drawing: a read after the page changed forces a synchronous layout of the whole page.
    this.W = 0; this.H = 0; this.st = 0;
    this.scroll.addEventListener('scroll', () => {
      const st = this.scroll.scrollTop;
      if (st !== this.st) { this.st = st; this.draw(); }
    });
    this.canvas.addEventListener('mousemove', (e) => this.mouse(e, 'move'));
    this.canvas.addEventListener('mouseleave', () => { this.pointer = null; this.hover = -1; this.onHover?.(null); this.drawOverlay(); });
    this.canvas.addEventListener('click', (e) => this.mouse(e, 'click'));
    new ResizeObserver(([e]) => {
      this.W = e.contentRect.width; this.H = e.contentRect.height;
      this.layout(false);
    }).observe(this.scroll);
  }

  setTree(tree, { label, color, highlight = null, zoom = 0, title = null, hideRoot = false }) {
    this.tree = tree;
    // Sandwich halves hide the synthetic root: their first row is the function itself.
    this.off = hideRoot ? 1 : 0; this.label = label; this.color = color; this.highlight = highlight;
    this.title = title;
    this.zoom = zoom;
    this.layout(false, false);
  }
  setZoom(node) { this.zoom = node; this.layout(true, false); }

  totalHeight() {
    return this.tree ? (this.tree.maxDepth[this.zoom] + 1 - this.off) * ROW + 4 : 0;
  }
  // Sizes the scroll area; a flame graph starts scrolled to its root at the bottom.
  layout(resetScroll, draw = true) {
    this.measure();
    const h = `${Math.max(0, this.totalHeight() - this.H)}px`;
    if (this.spacer.style.height !== h) this.spacer.style.height = h;
    const maxTop = Math.max(0, this.totalHeight() - this.H);
    const top = resetScroll ? (this.orientation === 'flame' ? maxTop : 0) : Math.min(this.st, maxTop);
    if (top !== this.st) { this.st = top; this.scroll.scrollTop = top; }
    if (draw) this.draw();
  }

  // y of a row's top edge in canvas pixels for a tree depth.
  // After the page's layout changed (a panel shown or hidden), read the size again now
  // rather than draw one frame at the old size until the ResizeObserver reports.
  remeasure() { this.W = 0; this.H = 0; }

  // The first draw of a view that was hidden has no size yet: read it once.
  measure() {
    if (!this.W || !this.H) { this.W = this.scroll.clientWidth; this.H = this.scroll.clientHeight; }
  }

  // Uses the geometry noted by the last draw: reading the DOM here (scrollTop, clientHeight)
  // for every frame forces layouts and costs more than the drawing.
  rowY(depth) {
    depth -= this.off;
    const g = this.geom;
    // A short flame graph sits on the bottom edge, like a tall one scrolled to its root.
    const top = this.orientation === 'flame' ? g.bottom - (depth + 1) * ROW : depth * ROW;
    return top - g.scrollTop;
  }

  // Brings a node's row into view.
  reveal(node) {
    const y = this.rowY(this.tree.depth[node]);
    const h = this.geom.H;
    if (y < 0 || y + ROW > h) {
      this.st = Math.max(0, Math.min(this.totalHeight() - h, this.st + y - h / 2));
      this.scroll.scrollTop = this.st;
      this.draw();
    }
  }

  draw() {
    this.measure();
    const W = this.W, H = this.H;
    this.geom = { scrollTop: this.st, bottom: Math.max(this.totalHeight(), H), H };
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.canvas, this.overlay]) {
      if (c.width !== Math.round(W * dpr) || c.height !== Math.round(H * dpr)) {
        c.width = Math.round(W * dpr); c.height = Math.round(H * dpr);
        c.style.width = `${W}px`; c.style.height = `${H}px`;
      }
    }
    this.sticky.style.height = `${H}px`;
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const hits = this.hits = { node: [], x: [], w: [], depth: [] };
    this.batch = new Map(); this.texts = []; this.dimTexts = [];
    const t = this.tree;
    if (!t || t.total[this.zoom] === 0) {
      ctx.fillStyle = '#888'; ctx.font = FONT;
      ctx.fillText(t ? 'No samples match the current filters.' : 'Loading…', 12, 24);
      this.rehover();
      return;
    }
    ctx.font = FONT; ctx.textBaseline = 'middle';
    this.charW = this.charW || ctx.measureText('mmmmmmmmmm').width / 10;
    const Z = this.zoom;
    const scale = W / t.total[Z];
    const x0 = t.x[Z];
    const visible = (d) => { const y = this.rowY(d); return y > -ROW && y < H; };
    // Deepest depth that can be on screen, so deep recursions stop descending early.
    const dz = t.depth[Z];
    const rows = Math.ceil(H / ROW) + 1;
    const firstRow = this.orientation === 'flame'
      ? Math.floor((Math.max(this.totalHeight(), H) - this.st - H) / ROW)
      : Math.floor(this.st / ROW);
    const maxDepth = Math.max(firstRow, 0) + rows + this.off;
    // Ancestors of the zoom root span the whole width.
    for (let v = t.parent[Z]; v >= 0; v = t.parent[v]) {
      if (visible(t.depth[v])) this.box(v, 0, W, t.depth[v], true);
    }
    const stack = [Z];
    while (stack.length) {
      const v = stack.pop();
      const d = t.depth[v];
      const px = (t.x[v] - x0) * scale, w = t.total[v] * scale;
      if (visible(d)) this.box(v, px, w, d, false);
      if (d + 1 > maxDepth) continue;
      let runX = -1, runW = 0, runN = 0;
      const big = [];
      const flush = () => {
        if (runN && runW >= 0.5 && visible(d + 1)) this.placeholder(v, runX, runW, d + 1, runN);
        runX = -1; runW = 0; runN = 0;
      };
      for (let j = t.childStart[v]; j < t.childStart[v + 1]; j++) {
        const c = t.children[j];
        const cw = t.total[c] * scale;
        if (cw === 0) continue;
        if (cw >= MIN_W) { flush(); big.push(c); }
        else { if (runX < 0) runX = (t.x[c] - x0) * scale; runW += cw; runN++; }
      }
      flush();
      // Left to right, so frames are drawn (and found) in x order.
      for (let j = big.length - 1; j >= 0; j--) stack.push(big[j]);
    }
    this.flushBatch();
    this.rehover();
    if (this.title) {
      ctx.fillStyle = '#444'; ctx.fillText(this.title, 6, this.orientation === 'flame' ? 10 : H - 10);
    }
  }

  // Frames are queued by colour and painted in batches (one fillStyle per colour, then the
  // labels), which is what keeps a full redraw of thousands of frames within a frame budget.
  box(v, x, w, depth, ancestor) {
    if (v === 0 && this.off) return;
    const t = this.tree;
    const y = this.rowY(depth);
    const hl = this.highlight;
    const dim = hl && v !== 0 && !hl[t.func[v]];
    const color = ancestor || v === 0 ? '#d8d2c8' : (hl && !dim ? '#d54ce0' : this.color(v, dim));
    let q = this.batch.get(color);
    if (!q) this.batch.set(color, (q = []));
    q.push(x + 0.5, y + 0.5, Math.max(w - 1, 0.5));
    if (w > 3 * this.charW + 6) {
      const text = this.label(v);
      const fit = Math.floor((w - 6) / this.charW);
      (dim ? this.dimTexts : this.texts).push(text.length > fit ? text.slice(0, Math.max(fit - 1, 1)) + '…' : text, x + 3, y + ROW / 2);
    }
    this.record(v, x, w, depth);
  }

  flushBatch() {
    const ctx = this.ctx;
    for (const [color, q] of this.batch) {
      ctx.fillStyle = color;
      for (let i = 0; i < q.length; i += 3) ctx.fillRect(q[i], q[i + 1], q[i + 2], ROW - 1);
    }
    for (const [texts, color] of [[this.texts, '#111'], [this.dimTexts, '#777']]) {
      ctx.fillStyle = color;
      for (let i = 0; i < texts.length; i += 3) ctx.fillText(texts[i], texts[i + 1], texts[i + 2]);
    }
  }

  // Outlines of the selected and hovered frames, on the overlay canvas.
  drawOverlay() {
    const o = this.overlay.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    o.setTransform(dpr, 0, 0, dpr, 0, 0);
    o.clearRect(0, 0, this.overlay.width, this.overlay.height);
    for (const [v, color, width] of [[this.selected, '#111', 2], [this.hover, '#444', 1]]) {
      if (v < 0 || !this.hits) continue;
      const r = this.rectOf(v);
      if (!r) continue;
      o.strokeStyle = color; o.lineWidth = width;
      o.strokeRect(r.x + 1, r.y + 1, Math.max(r.w - 2, 1), ROW - 2);
    }
  }

  // What is under a resting mouse may have changed with the drawing: outline it and tell the
  // page (its tooltip), so neither describes a frame that is no longer there.
  rehover() {
    const p = this.pointer;
    const hit = p ? this.hitAt(p.px, p.py) : null;
    this.hover = hit ? hit.node : -1;
    this.drawOverlay();
    if (p) this.onHover?.(hit, p);
  }

  placeholder(parent, x, w, depth, n) {
    const ctx = this.ctx;
    const y = this.rowY(depth);
    let q = this.batch.get('#c9c9c9');
    if (!q) this.batch.set('#c9c9c9', (q = []));
    q.push(x, y + 0.5, Math.max(w, 1));
    if (w > 8) {
      ctx.strokeStyle = '#aaa'; ctx.lineWidth = 1; ctx.beginPath();
      for (let k = x; k < x + w; k += 6) { ctx.moveTo(k, y + ROW - 1); ctx.lineTo(Math.min(k + 6, x + w), y + 1); }
      ctx.stroke();
    }
    // A placeholder is recorded as -(parent + 1), carrying how many frames it folds.
    this.record(-(parent + 1), x, w, depth, n);
  }

  record(v, x, w, depth, n = 0) {
    const h = this.hits;
    h.node.push(v); h.x.push(x); h.w.push(w); h.depth.push(depth);
    if (n) (h.folded ||= new Map()).set(h.node.length - 1, n);
  }

  // The node (or placeholder) under a point in CSS pixels, with its folded count.
  hitAt(px, py) {
    const h = this.hits;
    for (let i = h.node.length - 1; i >= 0; i--) {
      const y = this.rowY(h.depth[i]);
      if (py >= y && py < y + ROW && px >= h.x[i] && px < h.x[i] + Math.max(h.w[i], 1)) {
        return { node: h.node[i], folded: h.folded?.get(i) || 0 };
      }
    }
    return null;
  }

  // Where a node is drawn (CSS pixels), or null if it is not on screen.
  rectOf(node) {
    const h = this.hits;
    const i = h.node.indexOf(node);
    return i < 0 ? null : { x: h.x[i], y: this.rowY(h.depth[i]), w: h.w[i], h: ROW };
  }

  mouse(e, kind) {
    const r = this.canvas.getBoundingClientRect();
    // Canvas coordinates are kept too: the canvas stays put while the view scrolls under it.
    this.pointer = { clientX: e.clientX, clientY: e.clientY, px: e.clientX - r.left, py: e.clientY - r.top };
    const hit = this.hitAt(this.pointer.px, this.pointer.py);
    if (kind === 'move') {
      const v = hit ? hit.node : -1;
      if (v !== this.hover) { this.hover = v; this.drawOverlay(); }
      this.onHover?.(hit, e);
    } else if (hit) {
      this.onClick?.(hit, e);
    }
  }
}
