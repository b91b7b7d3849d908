"""Helpers for the LSP tests: find the ember binary, write `.ember` profiles (the documented
file format, docs/profile-format.md) from a list of call stacks, lay out a workspace."""

import gzip
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def ember_bin() -> str:
    env = os.environ.get("EMBER_BIN")
    if env:
        return env
    for kind in ("release", "debug"):
        p = REPO / "target" / kind / "ember"
        if p.exists():
            return str(p)
    raise RuntimeError("ember binary not found: build it (cargo build) or set EMBER_BIN")


class Interner:
    """Values in first-seen order, each with its index: the profile's string/function/frame/
    node tables."""

    def __init__(self):
        self.items, self.index = [], {}

    def id(self, value):
        if value not in self.index:
            self.index[value] = len(self.items)
            self.items.append(value)
        return self.index[value]


def write_profile(path, stacks, *, start_unix_ms=None, interval_ns=1_000_000, compress=True, journal=None):
    """Writes a profile. `stacks` is a list of (frames, count) where frames are root first,
    each (file, function, first_line, line). With `journal` (a list of sample counts), writes
    instead the journal a killed Ember leaves (docs/profile-format.md, "Journals"): one append
    per count, then a torn one."""
    strings, funcs, frames, nodes = Interner(), Interner(), Interner(), Interner()

    def s(x):
        return strings.id(x)

    def func(file, name, first):
        return funcs.id((s(file), s(name), first))

    def frame(fn, line):
        return frames.id((fn, line))

    def node(parent, fr):
        return nodes.id((parent, fr))

    sample_stacks = []
    for fs, count in stacks:
        parent = None
        for file, name, first, line in fs:
            parent = node(parent, frame(func(file, name, first), line))
        sample_stacks += [parent] * count
    n = len(sample_stacks)
    if start_unix_ms is None:
        start_unix_ms = int(time.time() * 1000)
    doc = {
        "format": "ember-profile",
        "version": 1,
        "writer": "ember tests",
        "meta": {
            "source": "ember",
            "start_unix_ms": start_unix_ms,
            "duration_ns": n * interval_ns,
            "rate_hz": 1e9 / interval_ns,
            "command_line": ["python", "app.py"],
            "python_version": "3.12.1",
            "dropped": {"torn": 0, "overflow": 0, "errors": 0},
            "timed": True,
            "interval_ns": interval_ns,
        },
        "threads": [{"pid": 1, "tid": 1, "name": "MainThread"}],
        "processes": [],
        "strings": strings.items,
        "functions": {
            "file": [f[0] for f in funcs.items],
            "name": [f[1] for f in funcs.items],
            "first_line": [f[2] for f in funcs.items],
        },
        "frames": {"func": [f[0] for f in frames.items], "line": [f[1] for f in frames.items]},
        "stacks": {
            "parent_delta": [0 if p is None else i - p for i, (p, _) in enumerate(nodes.items)],
            "frame": [f for _, f in nodes.items],
        },
        "samples": {
            "count": n,
            "time_step_ns": interval_ns,
            "time_delta_ns": [0] * n,
            "thread": [0] * n,
            "stack": sample_stacks,
            "flags": [0] * n,
        },
    }
    if journal is not None:
        return _write_journal(path, doc, journal)
    data = json.dumps(doc, separators=(",", ":")).encode()
    if compress:
        data = gzip.compress(data, 1)
    path = Path(path)
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def _write_journal(path, doc, counts):
    """The journal of `doc`'s recording, cut into appends of `counts` samples each."""
    path = Path(path)
    out = gzip.compress(json.dumps({"format": "ember-journal", "version": 1, "output": path.name.removesuffix(".partial")}).encode() + b"\n")
    smp, tables = doc["samples"], {"strings": 0, "functions": 0, "frames": 0, "stacks": 0}
    # Tables are interned in first-seen order, so the samples up to k need a prefix of each.
    nodes_p, nodes_f = doc["stacks"]["parent_delta"], doc["stacks"]["frame"]
    done, last_time = 0, 0
    for k in [sum(counts[: i + 1]) for i in range(len(counts))]:
        n_stacks = max(smp["stack"][:k]) + 1
        n_frames = max(nodes_f[:n_stacks]) + 1
        n_funcs = max(doc["frames"]["func"][:n_frames]) + 1
        f = doc["functions"]
        n_strings = max(max(f["file"][:n_funcs]), max(f["name"][:n_funcs])) + 1
        a = tables
        times = [(i + 1) * smp["time_step_ns"] for i in range(done, k)]
        chunk = {
            "meta": doc["meta"], "threads": doc["threads"], "processes": doc["processes"],
            "strings": doc["strings"][a["strings"]:n_strings],
            "functions": {c: f[c][a["functions"]:n_funcs] for c in ("file", "name", "first_line")},
            "frames": {c: doc["frames"][c][a["frames"]:n_frames] for c in ("func", "line")},
            "stacks": {"parent_delta": nodes_p[a["stacks"]:n_stacks], "frame": nodes_f[a["stacks"]:n_stacks]},
            "samples": {
                "time_delta_ns": [t - (times[i - 1] if i else last_time) for i, t in enumerate(times)],
                "thread": smp["thread"][done:k], "stack": smp["stack"][done:k], "flags": smp["flags"][done:k],
            },
        }
        out += gzip.compress(json.dumps(chunk).encode() + b"\n")
        tables = {"strings": n_strings, "functions": n_funcs, "frames": n_frames, "stacks": n_stacks}
        done, last_time = k, times[-1] if times else last_time
    # The append a killed writer was in the middle of.
    out += gzip.compress(json.dumps({"meta": doc["meta"]}).encode() + b"\n")[:-9]
    path.write_bytes(out)
    return path


def publish(root, name, stacks, **kw):
    """Saves a profile in <root>/.ember/ and points `latest` at it, as the DAP server does."""
    d = Path(root) / ".ember"
    d.mkdir(exist_ok=True)
    write_profile(d / name, stacks, **kw)
    tmp = d / ".latest.tmp"
    tmp.write_text(name + "\n")
    os.replace(tmp, d / "latest")
    return d / name


APP = '''\
import time


def main():
    for _ in range(3):
        work()
    helper()


def work():
    total = 0
    for i in range(1000):
        total += inner(i)
    return total


def inner(i):
    return i * i


def helper():
    time.sleep(0.01)


main()
'''


def app_stacks(app):
    """A profile of APP: 100 samples. main:6 → work:13 → inner:18 (60), main:6 → work:12 (20),
    main:7 → helper:22 (15), main:6 → work:13 (5 self)."""
    main6 = (app, "main", 4, 6)
    main7 = (app, "main", 4, 7)
    work12 = (app, "work", 10, 12)
    work13 = (app, "work", 10, 13)
    inner18 = (app, "inner", 17, 18)
    helper22 = (app, "helper", 21, 22)
    return [
        ([main6, work13, inner18], 60),
        ([main6, work12], 20),
        ([main7, helper22], 15),
        ([main6, work13], 5),
    ]
