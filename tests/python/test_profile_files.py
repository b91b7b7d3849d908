"""Ember's profile outputs checked by independent implementations: the .ember file against
schemas/profile.schema.json (jsonschema), speedscope output against speedscope's own published
schema (npm package `speedscope`), pprof output decoded with Google's protobuf runtime and
profile.proto's generated classes (shipped in austin-python)."""

import gzip
import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "profiles"


def ember_bin() -> str:
    env = os.environ.get("EMBER_BIN")
    if env and Path(env).exists():
        return env
    for p in (ROOT / "target" / "release" / "ember", ROOT / "target" / "debug" / "ember"):
        if p.exists():
            return str(p)
    pytest.fail("no ember binary: build it (cargo build) or set EMBER_BIN")


def convert(src: Path, out: Path, *extra: str) -> None:
    r = subprocess.run([ember_bin(), "convert", str(src), "-o", str(out), *extra], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


INPUTS = ["pyspy-raw-subprocesses.txt", "pyspy.speedscope.json", "cpython315.collapsed", "austin4.txt", "perf-script.txt"]


@pytest.mark.parametrize("name", INPUTS)
def test_ember_file_matches_its_schema(tmp_path, name):
    out = tmp_path / "p.ember"
    convert(FIXTURES / name, out)
    raw = out.read_bytes()
    assert raw[:2] == b"\x1f\x8b", "an .ember file is gzip-compressed"
    doc = json.loads(gzip.decompress(raw))
    schema = json.loads((ROOT / "schemas" / "profile.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)
    s = doc["samples"]
    assert s["count"] == len(s["stack"]) == len(s["thread"]) == len(s["flags"]) == len(s["time_delta_ns"]) > 0
    # Decode as docs/profile-format.md says and check every reference.
    t, times = 0, []
    for d in s["time_delta_ns"]:
        t += s["time_step_ns"] + d
        times.append(t)
    assert min(times) >= 0
    assert max(s["stack"]) < len(doc["stacks"]["frame"])
    assert max(s["thread"]) < len(doc["threads"])
    for i, d in enumerate(doc["stacks"]["parent_delta"]):
        assert 0 <= d <= i
    assert max(doc["frames"]["func"]) < len(doc["functions"]["file"])
    assert max(doc["functions"]["name"]) < len(doc["strings"])


def test_schema_rejects_what_the_reader_rejects(tmp_path):
    out = tmp_path / "p.ember"
    convert(FIXTURES / "pyspy-raw.txt", out)
    doc = json.loads(gzip.decompress(out.read_bytes()))
    schema = json.loads((ROOT / "schemas" / "profile.schema.json").read_text())
    v = jsonschema.Draft202012Validator(schema)
    for bad in ({**doc, "version": 2}, {**doc, "format": "speedscope"}, {k: x for k, x in doc.items() if k != "samples"}):
        assert list(v.iter_errors(bad)), bad.keys()


def speedscope_schema():
    p = ROOT / "tests" / "node_modules" / "speedscope" / "dist" / "release" / "file-format-schema.json"
    assert p.exists(), "run `npm install` in tests/ (scripts/setup.sh does) for speedscope's schema"
    return json.loads(p.read_text())


@pytest.mark.parametrize("name", ["pyspy-raw-subprocesses.txt", "cpython315.collapsed", "austin4.txt"])
def test_speedscope_output_is_valid_speedscope(tmp_path, name):
    out = tmp_path / "p.speedscope.json"
    convert(FIXTURES / name, out)
    doc = json.loads(out.read_text())
    jsonschema.Draft7Validator(speedscope_schema()).validate(doc)
    frames = doc["shared"]["frames"]
    for prof in doc["profiles"]:
        assert prof["type"] == "sampled" and prof["unit"] == "nanoseconds"
        assert len(prof["samples"]) == len(prof["weights"]) > 0
        assert all(0 <= i < len(frames) for s in prof["samples"] for i in s)
        assert prof["endValue"] == pytest.approx(prof["startValue"] + sum(prof["weights"]))


def test_speedscope_weighs_each_sample_one_interval(tmp_path):
    # As py-spy's speedscope files do: a sample stands for one sampling interval. (Weighing it
    # by the time to its thread's next sample credited idle gaps to the stack before them.)
    out = tmp_path / "p.json"
    convert(FIXTURES / "austin4.txt", out)
    doc = json.loads(out.read_text())
    weights = [w for p in doc["profiles"] for w in p["weights"]]
    assert len(set(weights)) == 1 and weights[0] > 0
    collapsed = tmp_path / "p.txt"
    convert(FIXTURES / "austin4.txt", collapsed, "--format", "collapsed")
    counted = sum(int(line.rsplit(" ", 1)[1]) for line in collapsed.read_text().splitlines() if line.strip())
    assert len(weights) == counted


def test_pprof_decodes_with_protobuf(tmp_path):
    profile_pb2 = pytest.importorskip("austin.format.pprof.profile_pb2", reason="pip install austin-python (tests/requirements.txt)")
    out = tmp_path / "p.pb.gz"
    convert(FIXTURES / "pyspy-raw-threads.txt", out)
    prof = profile_pb2.Profile()
    prof.ParseFromString(gzip.decompress(out.read_bytes()))
    st = prof.string_table
    assert st[0] == ""
    assert [(st[t.type], st[t.unit]) for t in prof.sample_type] == [("samples", "count"), ("wall", "nanoseconds")]
    assert (st[prof.period_type.type], st[prof.period_type.unit]) == ("wall", "nanoseconds") and prof.period > 0
    assert st[prof.default_sample_type] == "wall"
    locs = {l.id: l for l in prof.location}
    funcs = {f.id: f for f in prof.function}
    assert 0 not in locs and 0 not in funcs
    total = 0
    names = set()
    for s in prof.sample:
        assert len(s.value) == 2 and s.value[1] == s.value[0] * prof.period
        total += s.value[0]
        threads = {st[l.key]: (st[l.str] if l.str else l.num) for l in s.label}
        assert "thread id" in threads
        for lid in s.location_id:
            line = locs[lid].line[0]
            f = funcs[line.function_id]
            names.add((st[f.name], st[f.filename], line.line))
    collapsed = (FIXTURES / "pyspy-raw-threads.txt").read_text().splitlines()
    assert total == sum(int(l.rsplit(" ", 1)[1]) for l in collapsed if l.count(";") >= 1)
    assert ("leaf_a", "work.py", 5) in names
    assert ("Worker.run", "work.py", 19) in names
