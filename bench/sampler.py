#!/usr/bin/env python3
"""Sampler benchmark: Ember vs py-spy vs CPython 3.15's own sampler on the adversarial workload.

Profilers: Ember (without pausing, and with --blocking), py-spy (3.11) and, for 3.15, CPython's
own sampler. For a 3.11 and a 3.15 target it prints, side by side:
  * samples/s at each profiler's maximum rate (Ember --rate max, py-spy --nonblocking with a
    very high --rate, python3.15 -m profiling.sampling attach -r 1000khz);
  * impossible stacks: hot_a with leaf_b, hot_b with leaf_a, or hot_a and hot_b mixed, as a
    share of the samples each profiler reported;
  * the share of samples in leaf_a/leaf_b, against py-spy pausing the target (accurate, slow):
    a profiler that under- or over-reports short functions shows it here;
  * the distance from that reference over where samples land (innermost function and stack
    depth; total variation, 0% = the same distribution, 100% = disjoint);
  * target slowdown: a fixed amount of work timed alone and under each profiler at 1 kHz and at
    its maximum rate.
Usage: bench/sampler.sh [--seconds N] [--work N]   (run on an otherwise idle machine)
"""
import argparse, os, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOAD = os.path.join(ROOT, "tests", "workloads", "adversarial.py")
EMBER = os.environ.get("EMBER_BIN", os.path.join(ROOT, "target", "release", "ember"))
VENV = os.path.join(ROOT, ".tools", "venv", "bin")
PYSPY = shutil.which("py-spy", path=VENV + os.pathsep + os.environ.get("PATH", ""))


def pythons():
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "pythons.sh")], capture_output=True, text=True).stdout
    found = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    return [(m, found[m]) for m in ("3.11", "3.15") if m in found]


FRAME = [re.compile(r"^(?P<name>.*) \((?P<loc>.*):\d+\)$"), re.compile(r"^(?P<file>[^:]*):(?P<name>[^:]*):\d+$")]


def frame_name(token):
    for rx in FRAME:
        m = rx.match(token)
        if m:
            return m.group("name")
    return token


def classify(collapsed_path):
    """(samples, impossible, in a leaf, {(innermost function, depth): share}) from a
    collapsed-stacks file, weighted by counts. hot_a/hot_b and leaf_a/leaf_b count as one
    function each in the distribution (they are the same code)."""
    total = bad = leaves = 0
    where = {}
    with open(collapsed_path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or " " not in line:
                continue
            stack, count = line.rsplit(" ", 1)
            try:
                n = int(count)
            except ValueError:
                continue
            names = {frame_name(t) for t in stack.split(";")}
            a, b = "hot_a" in names, "hot_b" in names
            la, lb = "leaf_a" in names, "leaf_b" in names
            total += n
            if (a and b) or (a and lb) or (b and la) or (la and lb):
                bad += n
            frames = stack.split(";")
            inner = frame_name(frames[-1])
            if inner in ("leaf_a", "leaf_b"):
                leaves += n
            key = (inner.rstrip("ab").rstrip("_") if inner.startswith(("hot_", "leaf_")) else inner, len(frames))
            where[key] = where.get(key, 0) + n
    return total, bad, leaves, {k: v / max(total, 1) for k, v in where.items()}


def distance(p, q):
    """Total variation distance between two distributions, in percent."""
    return 50.0 * sum(abs(p.get(k, 0) - q.get(k, 0)) for k in set(p) | set(q))


def start_target(py, seconds):
    return subprocess.Popen([py, WORKLOAD, str(seconds)])


def run_profiler(name, py, seconds, tmp):
    """Attach `name` at its maximum rate for `seconds`; return (samples/s over the time it
    actually sampled, impossible %). py-spy's "maximum" is --rate 20000 (it cannot keep up with
    more and then runs past --duration)."""
    out = os.path.join(tmp, f"{name}.txt")
    if name == "stop-dump":
        rate = stop_dump_reference(py, seconds * 3, out)
        total, bad, leaves, where = classify(out)
        return (rate, 100.0 * bad / max(total, 1), 100.0 * leaves / max(total, 1), where), ""
    if name == "py-spy-pause":
        # The reference: 1 kHz for twice as long, ~10k exact samples (a distance of 2-3% is
        # sampling noise at that size).
        seconds *= 2
    # py-spy keeps going past --duration when it falls behind; the target's end stops it.
    target = start_target(py, seconds + 1.5)
    time.sleep(0.5)
    pid = str(target.pid)
    if name in ("ember", "ember-blocking"):
        cmd = [EMBER, "record", "--rate", "max", "-d", str(int(seconds)), "-f", "collapsed", "-o", out, "--pid", pid]
        if name == "ember-blocking":
            cmd.insert(2, "--blocking")
    elif name == "py-spy-pause":
        cmd = [PYSPY, "record", "--rate", "1000", "-d", str(int(seconds)), "-f", "raw", "-o", out, "--pid", pid]
    elif name == "py-spy":
        cmd = [PYSPY, "record", "--nonblocking", "--rate", "20000", "-d", str(int(seconds)), "-f", "raw", "-o", out, "--pid", pid]
    else:
        cmd = [py, "-m", "profiling.sampling", "attach", "-r", "1000khz", "-d", str(int(seconds)), "--collapsed", "-o", out, pid]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    target.kill()
    target.wait()
    if r.returncode != 0 or not os.path.exists(out):
        return None, f"failed: {r.stderr.strip()[-200:]}"
    total, bad, leaves, where = classify(out)
    return (total / min(wall, seconds + 1.5), 100.0 * bad / max(total, 1), 100.0 * leaves / max(total, 1), where), r.stderr.strip().splitlines()[-1:] if name == "ember" else ""


DUMP_FRAME = re.compile(r'^\s*File "(?P<file>.*)", line (?P<line>-?\d+), in (?P<name>.*)$')


def stop_dump_reference(py, seconds, out):
    """A pausing reference any version can have: SIGSTOP the target at random moments, read
    its stack with `ember dump` while it stands still, SIGCONT. Slow (~10 ms a sample), exact.
    Writes collapsed stacks to `out`; returns the samples per second."""
    import random, signal
    target = start_target(py, seconds + 3)
    time.sleep(0.5)
    counts, end = {}, time.perf_counter() + seconds
    try:
        while time.perf_counter() < end:
            os.kill(target.pid, signal.SIGSTOP)
            while open(f"/proc/{target.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "T":
                pass
            r = subprocess.run([EMBER, "dump", str(target.pid)], capture_output=True, text=True)
            os.kill(target.pid, signal.SIGCONT)
            frames = [f"{m['name']} ({m['file']}:{m['line']})" for m in map(DUMP_FRAME.match, r.stdout.splitlines()) if m]
            if frames:
                key = ";".join(frames)
                counts[key] = counts.get(key, 0) + 1
            time.sleep(random.uniform(0.001, 0.003))
    finally:
        target.kill()
        target.wait()
    with open(out, "w") as f:
        f.writelines(f"{k} {v}\n" for k, v in counts.items())
    return sum(counts.values()) / seconds


def timed_work(py, work, profiler=None, rate=None, tmp=None):
    """Seconds the fixed work took, under `profiler` at `rate` (None = alone)."""
    target = subprocess.Popen([py, WORKLOAD, "1e9", "count", str(work)], stdout=subprocess.PIPE, text=True)
    prof = None
    if profiler in ("ember", "ember-blocking"):
        extra = ["--blocking"] if profiler == "ember-blocking" else []
        prof = subprocess.Popen([EMBER, "record", *extra, "--rate", rate, "-o", os.path.join(tmp, "slow.ember"), "--pid", str(target.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elif profiler == "py-spy":
        args = [PYSPY, "record", "--rate", "20000" if rate == "max" else rate, "-f", "raw", "-o", os.path.join(tmp, "slow.txt"), "--pid", str(target.pid)]
        prof = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elif profiler == "cpython":
        r = "1000khz" if rate == "max" else rate
        prof = subprocess.Popen([py, "-m", "profiling.sampling", "attach", "-r", r, "--collapsed", "-o", os.path.join(tmp, "slow.c"), str(target.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out, _ = target.communicate()
    if prof:
        prof.wait(timeout=30)
    n, secs = out.split()
    return float(secs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--work", type=int, default=300000, help="iterations of the fixed work")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(EMBER):
        sys.exit(f"build first: {EMBER} missing (cargo build --release)")
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; py-spy: {PYSPY or 'not installed'}")
    with tempfile.TemporaryDirectory() as tmp:
        for minor, py in pythons():
            # py-spy does not read 3.15 (it fails at once, which would read as no slowdown).
            peers = ["ember", "ember-blocking"] + (["py-spy"] if PYSPY and minor != "3.15" else []) + (["cpython"] if minor == "3.15" else [])
            print(f"\n== CPython {minor} ({py})")
            print(f"{'profiler':<13} {'samples/s':>11} {'impossible':>11} {'in leaf_*':>10} {'vs pausing':>11}")
            # Pausing the target gives the reference for where time goes: py-spy's own pausing
            # mode where it reads the version, else SIGSTOP + `ember dump` (same instants, fewer
            # samples). The first reference listed is the one distances are measured from.
            ref = (["py-spy-pause"] if PYSPY and minor != "3.15" else []) + ["stop-dump"]
            reference = None
            for name in ref + peers:
                res, note = run_profiler(name, py, args.seconds, tmp)
                if res is None:
                    print(f"{name:<13} {note}")
                    continue
                if name in ref and reference is None:
                    reference = res[3]
                dist = f"{distance(res[3], reference):>10.1f}%" if reference is not None else f"{'n/a':>11}"
                print(f"{name:<13} {res[0]:>11,.0f} {res[1]:>10.3f}% {res[2]:>9.1f}% {dist}   {' '.join(note) if note else ''}")
            # Each run under a profiler is paired with a run alone just before it, so drift in
            # the machine's speed over the benchmark does not read as slowdown.
            rows, alone_all = [], []
            for name in peers:
                cells = []
                for rate in ("1000", "max"):
                    alone, under = [], []
                    for _ in range(args.repeat):
                        alone.append(timed_work(py, args.work))
                        under.append(timed_work(py, args.work, name, rate, tmp))
                    alone_all += alone
                    # The median, then the lowest and highest run, each against the run alone
                    # just before it: at the maximum rate runs come in good and bad streaks
                    # (docs/architecture.md, "Reading disturbs the target").
                    pairs = sorted(100 * (u / a - 1) for u, a in zip(under, alone))
                    cells.append(f"{100 * (statistics.median(under) / statistics.median(alone) - 1):+.1f}% ({pairs[0]:+.0f}..{pairs[-1]:+.0f})")
                rows.append(f"{name:<13} {cells[0]:>22} {cells[1]:>22}")
            print(f"fixed work alone: {statistics.median(alone_all):.3f}s (median of {len(alone_all)}, each paired with a run under a profiler)")
            print(f"{'profiler':<13} {'slowdown @1kHz (runs)':>22} {'slowdown @max (runs)':>22}")
            print("\n".join(rows))


if __name__ == "__main__":
    main()
