"""Inlay-hint latency of `ember lsp` for a 10,000-line file with a 1M-sample profile loaded.

Generates a synthetic workspace (a 10,000-line module of 1,000 functions; 1,000,000 samples over
call chains 5–40 deep through them), starts `ember lsp` as an editor does, opens the file and
times `textDocument/inlayHint` over the whole file, round trip on the client, N times."""

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from lsp_support import ember_bin, write_profile  # noqa: E402

LINES = 10_000
FUNCS = 1_000
SAMPLES = int(os.environ.get("SAMPLES", 1_000_000))
ROUNDS = int(os.environ.get("ROUNDS", 300))


def make_workspace(root: Path):
    src = root / "big.py"
    lines = []
    for f in range(FUNCS):
        lines.append(f"def f{f}(n):")
        lines += [f"    x{i} = n + {i}  # work" for i in range(LINES // FUNCS - 1)]
    src.write_text("\n".join(lines) + "\n")
    rng = random.Random(7)
    per = LINES // FUNCS

    def frame(f):
        return (str(src), f"f{f}", f * per + 1, f * per + 2 + rng.randrange(per - 1))

    # 20,000 distinct call chains; sample counts follow a long tail.
    stacks = []
    for _ in range(20_000):
        depth = rng.randint(5, 40)
        chain = [frame(0)] + [frame(rng.randrange(FUNCS)) for _ in range(depth - 1)]
        stacks.append(chain)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(stacks))]
    total = sum(weights)
    counts = [max(1, int(SAMPLES * w / total)) for w in weights]
    counts[0] += SAMPLES - sum(counts)
    d = root / ".ember"
    d.mkdir()
    t0 = time.time()
    write_profile(d / "big.ember", list(zip(stacks, counts)))
    (d / "latest").write_text("big.ember\n")
    print(f"profile: {sum(counts):,} samples, {len(stacks):,} stacks, written in {time.time() - t0:.1f}s", file=sys.stderr)
    return src


class Client:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0
        self.logs = []

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def read(self):
        header = b""
        while not header.endswith(b"\r\n\r\n"):
            header += self.p.stdout.read(1)
        n = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        return self.p.stdout.read(n)

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            raw = self.read()
            msg = json.loads(raw)
            if msg.get("method") == "window/logMessage":
                self.logs.append(msg["params"]["message"])
            if msg.get("id") == self.next_id and "method" not in msg:
                return msg, raw


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def focus_latency(c, whole):
    """Time from a focus change in the page to the editor's next hints reflecting it."""
    import urllib.request

    url = next((m.split("flamegraph at ", 1)[1] for m in c.logs if "flamegraph at" in m), None)
    if not url:
        print("focus latency: no flamegraph server", file=sys.stderr)
        return
    api = url.replace("/?", "/api/event?")
    times = []
    for i in range(10):
        body = {"type": "focus", "function": 1 + i} if i % 2 == 0 else {"type": "focus"}
        before, _ = c.request("textDocument/inlayHint", whole)
        t = time.perf_counter()
        req = urllib.request.Request(api, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(req, timeout=5).read()
        while True:
            now, _ = c.request("textDocument/inlayHint", whole)
            if now["result"] != before["result"] or time.perf_counter() - t > 5:
                break
        times.append(time.perf_counter() - t)
    print(f"focus change in the page -> new hints: p50 {1e3 * pct(times, 0.5):.0f} ms, max {1e3 * max(times):.0f} ms")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = make_workspace(root)
        c = Client([ember_bin(), "lsp"])
        t0 = time.perf_counter()
        c.request("initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}})
        print(f"initialize (loads the profile): {1e3 * (time.perf_counter() - t0):.0f} ms", file=sys.stderr)
        c.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        uri = src.as_uri()
        c.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": src.read_text()}}})
        whole = {"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": LINES, "character": 0}}}
        for threshold in (0.5, 0.0):
            c.send({"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": {"ember": {"threshold": threshold}}}})
            times, hints, size = [], 0, 0
            for _ in range(ROUNDS):
                t = time.perf_counter()
                msg, raw = c.request("textDocument/inlayHint", whole)
                times.append(time.perf_counter() - t)
                hints, size = len(msg["result"]), len(raw)
            print(f"inlay hints, 10,000-line file, {SAMPLES:,}-sample profile, threshold {threshold}%: "
                  f"{hints} hints ({size // 1024} KiB), p50 {1e3 * pct(times, 0.5):.2f} ms, p99 {1e3 * pct(times, 0.99):.2f} ms")
        focus_latency(c, whole)
        c.request("shutdown", None)
        c.send({"jsonrpc": "2.0", "method": "exit"})
        c.p.wait(timeout=10)


if __name__ == "__main__":
    main()
