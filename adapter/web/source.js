// Source view: one file with per-line heat (total = samples with that line anywhere on the
// stack, counted once; self = samples with it as the leaf), computed from the stack counts.

const NO_PARENT = 0xffffffff;

export function lineHeat(prof, counts, file) {
  const v = prof.views();
  const fileId = prof.strings.indexOf(file);
  const total = new Map(), self = new Map();
  if (fileId < 0) return { total, self };
  const frameInFile = new Uint8Array(v.frameFunc.length);
  for (let fr = 0; fr < v.frameFunc.length; fr++) frameInFile[fr] = prof.funcFile[v.frameFunc[fr]] === fileId ? 1 : 0;
  const seen = new Map();
  for (let s = 0; s < counts.length; s++) {
    const c = counts[s];
    if (!c) continue;
    const leaf = v.stackFrame[s];
    if (frameInFile[leaf]) { const l = v.frameLine[leaf]; self.set(l, (self.get(l) || 0) + c); }
    for (let u = s; u !== NO_PARENT; u = v.stackParent[u]) {
      const fr = v.stackFrame[u];
      if (!frameInFile[fr]) continue;
      const l = v.frameLine[fr];
      if (seen.get(l) === s) continue;  // a recursive line counts once per sample
      seen.set(l, s);
      total.set(l, (total.get(l) || 0) + c);
    }
  }
  return { total, self };
}

export function renderSource(panel, { file, text, heat, allTotal, seconds, focusLine, onLine, selectedLines }) {
  panel.replaceChildren();
  const head = document.createElement('div');
  head.className = 'source-head';
  head.textContent = file;
  panel.append(head);
  const table = document.createElement('table');
  table.className = 'source';
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let max = 1;
  for (const c of heat.total.values()) if (c > max) max = c;
  const pct = (c) => (c ? `${((100 * c) / allTotal).toFixed(1)}%` : '');
  lines.forEach((code, i) => {
    const n = i + 1;
    const t = heat.total.get(n) || 0, s = heat.self.get(n) || 0;
    const tr = document.createElement('tr');
    tr.dataset.line = n;
    if (t) {
      tr.classList.add('hot');
      tr.style.setProperty('--heat', (t / max).toFixed(3));
      tr.title = `line ${n}: total ${t} samples (${pct(t)}, ${(t * seconds).toFixed(3)} s), self ${s} (${pct(s)})`;
    }
    if (selectedLines?.has(n)) tr.classList.add('selected');
    tr.innerHTML = `<td class="ln"></td><td class="tot"></td><td class="slf"></td><td class="code"></td>`;
    tr.children[0].textContent = n;
    tr.children[1].textContent = pct(t);
    tr.children[2].textContent = pct(s);
    tr.children[3].textContent = code;
    tr.addEventListener('click', () => onLine(n));
    table.append(tr);
  });
  panel.append(table);
  if (focusLine) {
    const row = table.querySelector(`tr[data-line="${focusLine}"]`);
    row?.scrollIntoView({ block: 'center' });
  }
}
