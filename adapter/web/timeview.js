// Time view: a FlameScope-style sub-second offset heatmap (a column per second, a row per
// slice of that second, colour = samples) and one activity strip per thread. Dragging over
// either selects a time range [t0, t1) in nanoseconds.

const ROWS = 50;             // 20 ms slices
const STRIP_H = 14;

export class TimeView {
  constructor(host, { onSelect }) {
    this.host = host; this.onSelect = onSelect;
    this.heat = document.createElement('canvas'); this.heat.className = 'heatmap';
    this.strips = document.createElement('canvas'); this.strips.className = 'strips';
    host.append(this.heat, this.strips);
    this.range = null;
    this.heat.addEventListener('mousemove', (e) => {
      const t = this.heatTime(e);
      const s = Math.floor(t / 1e9), r = Math.round(((t % 1e9) / 1e9) * ROWS);
      this.heat.title = `${s} s + ${r * (1000 / ROWS)}–${(r + 1) * (1000 / ROWS)} ms: ${this.cells[s * ROWS + r] || 0} samples`;
    });
    this.drag(this.heat, (e) => this.heatTime(e));
    this.drag(this.strips, (e) => this.stripTime(e));
  }

  // Counts samples per (second, slice) and per (thread, pixel column) under a filter that
  // ignores the time range itself.
  setData(prof, filter) {
    this.prof = prof;
    const v = prof.views();
    let tMax = 0;
    for (let i = 0; i < v.time.length; i++) if (v.time[i] > tMax) tMax = v.time[i];
    this.tMax = Math.max(tMax, 1);
    this.seconds = Math.max(1, Math.ceil((tMax + 1) / 1e9));
    const cells = this.cells = new Uint32Array(this.seconds * ROWS);
    const W = this.width = Math.max(200, this.host.clientWidth - 8);
    const nT = prof.threads.length;
    const strip = this.stripCounts = new Uint32Array(Math.max(nT, 1) * W);
    const { threads, flags } = filter;
    for (let i = 0; i < v.time.length; i++) {
      if (flags && (v.flags[i] & flags) === 0) continue;
      if (threads && !threads.has(v.thread[i])) continue;
      const t = v.time[i];
      const sec = Math.floor(t / 1e9);
      cells[sec * ROWS + Math.floor(((t % 1e9) / 1e9) * ROWS)]++;
      strip[v.thread[i] * W + Math.min(W - 1, Math.floor((t / this.tMax) * (W - 1)))]++;
    }
    this.draw();
  }

  cellW() { return Math.max(2, Math.min(24, Math.floor(this.width / this.seconds))); }

  draw() {
    if (!this.prof) return;
    const cw = this.cellW(), ch = 4;
    const hc = this.heat, ctx = hc.getContext('2d');
    hc.width = this.seconds * cw; hc.height = ROWS * ch;
    let max = 1;
    for (const c of this.cells) if (c > max) max = c;
    for (let s = 0; s < this.seconds; s++) {
      for (let r = 0; r < ROWS; r++) {
        const c = this.cells[s * ROWS + r];
        const a = c / max;
        ctx.fillStyle = c ? `rgb(255,${Math.round(235 - 190 * a)},${Math.round(200 - 200 * a)})` : '#f6f6f6';
        ctx.fillRect(s * cw, r * ch, cw - 1, ch - 1);
      }
    }
    const sc = this.strips, sx = sc.getContext('2d');
    const nT = this.prof.threads.length, W = this.width;
    sc.width = W; sc.height = Math.max(nT, 1) * STRIP_H;
    let smax = 1;
    for (const c of this.stripCounts) if (c > smax) smax = c;
    for (let th = 0; th < nT; th++) {
      sx.fillStyle = '#f3f3f3'; sx.fillRect(0, th * STRIP_H, W, STRIP_H - 2);
      for (let x = 0; x < W; x++) {
        const c = this.stripCounts[th * W + x];
        if (!c) continue;
        sx.fillStyle = `rgba(40,110,200,${0.25 + 0.75 * Math.min(1, c / smax)})`;
        sx.fillRect(x, th * STRIP_H, 1, STRIP_H - 2);
      }
      sx.fillStyle = '#222'; sx.font = '10px sans-serif'; sx.textBaseline = 'middle';
      const t = this.prof.threads[th];
      sx.fillText(`${t.name || 'thread'} ${t.tid}`, 3, th * STRIP_H + STRIP_H / 2 - 1);
    }
    if (this.range) {
      const [t0, t1] = this.range;
      // heatmap: shade selected cells
      ctx.fillStyle = 'rgba(30,60,200,0.28)';
      const slice = 1e9 / ROWS;
      for (let s = 0; s < this.seconds; s++) for (let r = 0; r < ROWS; r++) {
        const a = s * 1e9 + r * slice;
        if (a + slice > t0 && a < t1) ctx.fillRect(s * cw, r * ch, cw - 1, ch - 1);
      }
      sx.fillStyle = 'rgba(30,60,200,0.2)';
      const x0 = (t0 / this.tMax) * (W - 1), x1 = (t1 / this.tMax) * (W - 1);
      sx.fillRect(x0, 0, Math.max(1, x1 - x0), sc.height);
    }
  }

  // Time at a point of the heatmap: start of the slice under it.
  heatTime(e) {
    const r = this.heat.getBoundingClientRect();
    const cw = this.cellW();
    const s = Math.max(0, Math.min(this.seconds - 1, Math.floor((e.clientX - r.left) / cw)));
    const row = Math.max(0, Math.min(ROWS - 1, Math.floor((e.clientY - r.top) / 4)));
    return s * 1e9 + (row * 1e9) / ROWS;
  }
  stripTime(e) {
    const r = this.strips.getBoundingClientRect();
    return Math.max(0, Math.min(1, (e.clientX - r.left) / (this.width - 1))) * this.tMax;
  }

  drag(el, timeAt) {
    el.addEventListener('mousedown', (e) => {
      const a = timeAt(e);
      const slice = el === this.heat ? 1e9 / ROWS : this.tMax / this.width;
      const move = (m) => {
        const b = timeAt(m);
        this.range = [Math.min(a, b), Math.max(a, b) + slice];
        this.draw();
      };
      const up = (u) => {
        move(u);
        window.removeEventListener('mousemove', move); window.removeEventListener('mouseup', up);
        this.onSelect(this.range);
      };
      window.addEventListener('mousemove', move); window.addEventListener('mouseup', up);
      e.preventDefault();
    });
  }
  clear() { this.range = null; this.draw(); }
}
