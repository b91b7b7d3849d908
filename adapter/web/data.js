// The profile as typed arrays, downloaded in pieces: the server sends rows past what we
// have (tables only grow while recording), or everything again when `reset` says so.

const TOKEN = new URLSearchParams(location.search).get('token') || '';

export function api(path, params = {}) {
  const q = new URLSearchParams({ token: TOKEN, ...params });
  return `/api/${path}?${q}`;
}

// The server can stop while the page stays open (`ember serve` ended, the editor's session
// closed). A request that cannot reach it asks once more (/api/list); if that fails too the
// page is told, once, and no request is made after that (each would only log an error).
let gone = false, onGone = null, checking = null;
export const serverGone = () => gone;
export function whenGone(cb) { onGone = cb; }
class GoneError extends Error {
  constructor() { super('Ember has stopped: the page can no longer reach it'); }
}
function checkServer() {
  if (gone) return Promise.resolve(false);
  checking ||= fetch(api('list'), { cache: 'no-store' }).then((r) => r.ok, () => false).then((ok) => {
    checking = null;
    if (!ok && !gone) { gone = true; onGone?.(); }
    return ok;
  });
  return checking;
}
async function request(url, init) {
  if (gone) throw new GoneError();
  try {
    return await fetch(url, init);
  } catch (e) {
    if (!(await checkServer())) throw new GoneError();
    throw e;
  }
}

const TYPES = { u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, f64: Float64Array };

// A typed array that grows by doubling; `a` is a view of the used part.
class Column {
  constructor(Type) { this.Type = Type; this.buf = new Type(0); this.len = 0; }
  get a() { return this.buf.subarray(0, this.len); }
  append(src) {
    if (this.len + src.length > this.buf.length) {
      const next = new this.Type(Math.max(this.len + src.length, this.buf.length * 2, 1024));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(src, this.len);
    this.len += src.length;
  }
}

export const ORIGINS = ['project', 'stdlib', 'site-packages', 'other'];

export class Profile {
  constructor(index) {
    this.index = index;
    this.clear();
  }
  clear() {
    this.strings = [];
    this.funcFile = []; this.funcName = []; this.funcLine = []; this.funcOrigin = [];
    this.cols = {
      frame_func: new Column(Uint32Array), frame_line: new Column(Uint32Array),
      stack_parent: new Column(Uint32Array), stack_frame: new Column(Uint32Array),
      sample_time: new Column(Float64Array), sample_stack: new Column(Uint32Array),
      sample_thread: new Column(Uint16Array), sample_flags: new Column(Uint8Array),
    };
    this.threads = []; this.meta = {}; this.processes = [];
    this.version = 0;
  }
  get nFuncs() { return this.funcName.length; }
  get nStacks() { return this.cols.stack_parent.len; }
  get nSamples() { return this.cols.sample_stack.len; }
  // Column views (cheap; re-taken after each load).
  views() {
    const c = this.cols;
    return {
      frameFunc: c.frame_func.a, frameLine: c.frame_line.a,
      stackParent: c.stack_parent.a, stackFrame: c.stack_frame.a,
      time: c.sample_time.a, stack: c.sample_stack.a, thread: c.sample_thread.a, flags: c.sample_flags.a,
    };
  }
  funcLabel(f) { return this.strings[this.funcName[f]]; }
  funcFileName(f) { return this.strings[this.funcFile[f]]; }

  // Fetches what is new; returns true when anything changed.
  async load(full = false) {
    const have = full ? {} : {
      strings: this.strings.length, functions: this.funcName.length, frames: this.cols.frame_func.len,
      stacks: this.nStacks, samples: this.nSamples,
    };
    const r = await request(api('profile', { p: this.index, ...have }));
    if (!r.ok) throw new Error(`profile download failed: ${r.status} ${await r.text()}`);
    const buf = await r.arrayBuffer();
    const n = new DataView(buf).getUint32(0, true);
    const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
    const dataStart = (4 + n + 7) & ~7;
    if (full || head.reset) this.clear();
    let changed = full || head.reset;
    for (const s of head.strings) this.strings.push(s);
    for (const [file, name, line, origin] of head.functions) {
      this.funcFile.push(file); this.funcName.push(name); this.funcLine.push(line); this.funcOrigin.push(origin);
    }
    for (const [name, d] of Object.entries(head.arrays)) {
      if (!d.len) continue;
      changed = true;
      this.cols[name].append(new TYPES[d.type](buf, dataStart + d.offset, d.len));
    }
    changed ||= head.functions.length > 0 || head.threads.length !== this.threads.length;
    this.threads = head.threads;
    this.meta = head.meta;
    this.processes = head.processes;
    if (changed) this.version++;
    return changed;
  }
}

// Live progress: calls onProgress with {samples, rate, generation, finished, ...}; and
// onFocus with {focus: null} when the editor clears its focus. A dropped stream is also how
// a stopped server shows first: the browser would reconnect every few seconds forever, so
// the stream closes for good once the server does not answer.
export function watch(index, onProgress, onFocus) {
  const es = new EventSource(api('live', { p: index }));
  es.addEventListener('progress', (e) => onProgress(JSON.parse(e.data)));
  es.addEventListener('focus', (e) => onFocus(JSON.parse(e.data)));
  es.addEventListener('error', () => checkServer().then((ok) => { if (!ok) es.close(); }));
  return es;
}

export async function listProfiles() {
  const r = await request(api('list'));
  return r.ok ? r.json() : [];
}

export async function postEvent(ev) {
  try {
    await request(api('event'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ev) });
  } catch (e) { /* the page keeps working without an editor listening */ }
}

export async function fetchSource(index, file) {
  const r = await request(api('source', { p: index, file }));
  const text = await r.text();
  if (!r.ok) throw new Error(text.trim());
  return text;
}
