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
    this.tree = null; this.zoom = 0; this.off = 0; this.selected = -1; this.hover = -1;
    this.hits = { node: [], x: [], w: [], depth: [] };
    this.scroll.addEventListener('scroll', () => { if (this.scroll.scrollTop !== this.drawnScroll) this.draw(); });
    this.canvas.addEventListener('mousemove', (e) => this.mouse(e, 'move'));
    this.canvas.addEventListener('mouseleave', () => { this.hover = -1; this.onHover?.(null); this.drawOverlay(); });
    this.canvas.addEventListener('click', (e) => this.mouse(e, 'click'));
    new ResizeObserver(() => this.draw()).observe(this.scroll);
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
    const viewH = this.scroll.clientHeight;
    this.spacer.style.height = `${Math.max(0, this.totalHeight() - viewH)}px`;
    if (resetScroll) {
      const top = this.orientation === 'flame' ? this.scroll.scrollHeight : 0;
      // The scroll event would redraw a frame later; note the position so it does not.
      if (this.scroll.scrollTop !== top) { this.scroll.scrollTop = top; this.drawnScroll = null; }
    }
    if (draw) this.draw();
  }

  // y of a row's top edge in canvas pixels for a tree depth.
  rowY(depth) {
    depth -= this.off;
    // A short flame graph sits on the bottom edge, like a tall one scrolled to its root.
    const bottom = Math.max(this.totalHeight(), this.scroll.clientHeight);
    const top = this.orientation === 'flame' ? bottom - (depth + 1) * ROW : depth * ROW;
    return top - this.scroll.scrollTop;
  }

  // Brings a node's row into view.
  reveal(node) {
    const y = this.rowY(this.tree.depth[node]);
    const h = this.scroll.clientHeight;
    if (y < 0 || y + ROW > h) this.scroll.scrollTop += y - h / 2;
  }

  draw() {
    const W = this.scroll.clientWidth, H = this.scroll.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    this.drawnScroll = this.scroll.scrollTop;
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
    const t = this.tree;
    if (!t || t.total[this.zoom] === 0) {
      ctx.fillStyle = '#888'; ctx.font = FONT;
      ctx.fillText(t ? 'No samples match the current filters.' : 'Loading…', 12, 24);
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
      ? Math.floor((Math.max(this.totalHeight(), H) - this.scroll.scrollTop - H) / ROW)
      : Math.floor(this.scroll.scrollTop / ROW);
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
    this.drawOverlay();
    if (this.title) {
      ctx.fillStyle = '#444'; ctx.fillText(this.title, 6, this.orientation === 'flame' ? 10 : H - 10);
    }
  }

  box(v, x, w, depth, ancestor) {
    if (v === 0 && this.off) return;
    const ctx = this.ctx, t = this.tree;
    const y = this.rowY(depth);
    const hl = this.highlight;
    const dim = hl && v !== 0 && !hl[t.func[v]];
    ctx.fillStyle = ancestor || v === 0 ? '#d8d2c8' : (hl && !dim ? '#d54ce0' : this.color(v, dim));
    ctx.fillRect(x + 0.5, y + 0.5, Math.max(w - 1, 0.5), ROW - 1);
    if (w > 3 * this.charW + 6) {
      const text = this.label(v);
      const fit = Math.floor((w - 6) / this.charW);
      ctx.fillStyle = dim ? '#777' : '#111';
      ctx.fillText(text.length > fit ? text.slice(0, Math.max(fit - 1, 1)) + '…' : text, x + 3, y + ROW / 2);
    }
    this.record(v, x, w, depth);
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

  placeholder(parent, x, w, depth, n) {
    const ctx = this.ctx;
    const y = this.rowY(depth);
    ctx.fillStyle = '#c9c9c9';
    ctx.fillRect(x, y + 0.5, Math.max(w, 1), ROW - 1);
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
    const hit = this.hitAt(e.clientX - r.left, e.clientY - r.top);
    if (kind === 'move') {
      const v = hit ? hit.node : -1;
      if (v !== this.hover) { this.hover = v; this.drawOverlay(); }
      this.onHover?.(hit, e);
    } else if (hit) {
      this.onClick?.(hit, e);
    }
  }
}
