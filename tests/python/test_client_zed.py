"""The Zed client (clients/zed): the extension manifest and its debug-adapter schema are valid,
the Rust crate's own tests pass and it builds for WebAssembly (when the wasm32-wasip2 target is
installed), and `ember dap` accepts the launch arguments the `.zed/debug.json` example produces,
computed by the extension's own code (examples/invocation.rs runs what get_dap_binary runs).
Zed itself is not installed here, so the extension is not loaded into Zed."""
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from test_client_common import CLIENTS, REPO, ember_bin, program_output, start_session

ZED = CLIENTS / "zed"


def cargo(*args, timeout=900):
    if not shutil.which("cargo"):
        pytest.fail("cargo is needed to build the Zed extension")
    return subprocess.run(["cargo", *args], cwd=ZED, capture_output=True, text=True, timeout=timeout)


def manifest():
    return tomllib.loads((ZED / "extension.toml").read_text())


def zed_schema():
    return json.loads((ZED / "debug_adapter_schemas" / "ember.json").read_text())


def debug_json():
    """The example, read as Zed reads it (JSON with // comments)."""
    text = (ZED / "example" / ".zed" / "debug.json").read_text()
    return json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.M))


def substitute(value, variables):
    if isinstance(value, str):
        for k, v in variables.items():
            value = value.replace(k, v)
        return value
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def test_manifest_registers_the_language_server_and_debug_adapter():
    m = manifest()
    for key in ["id", "name", "version", "schema_version", "authors", "description", "repository"]:
        assert key in m, key
    assert m["id"] == "ember" and m["schema_version"] == 1
    assert m["language_servers"]["ember"]["languages"] == ["Python"]
    schema_path = m["debug_adapters"]["ember"]["schema_path"]
    assert (ZED / schema_path).is_file()
    cargo_toml = tomllib.loads((ZED / "Cargo.toml").read_text())
    assert "cdylib" in cargo_toml["lib"]["crate-type"], "Zed loads the crate as a WASM component"
    assert "zed_extension_api" in cargo_toml["dependencies"]


def test_debug_adapter_schema_is_valid_and_generated_from_schemas():
    jsonschema = pytest.importorskip("jsonschema")
    schema = zed_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    r = subprocess.run(["node", str(ZED / "scripts" / "generate-schema.mjs"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    v = jsonschema.Draft7Validator(schema)
    assert not list(v.iter_errors({"request": "attach", "processId": 1234}))
    assert list(v.iter_errors({"request": "profile"})), "an unknown request is rejected"
    assert list(v.iter_errors({"request": "launch", "rate": "fast"})), "launch fields are checked"


def test_example_debug_json_validates_against_the_schema(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    v = jsonschema.Draft7Validator(zed_schema())
    scenarios = debug_json()
    assert any(s.get("program") == "$ZED_FILE" for s in scenarios), "a 'current file' scenario"
    for s in substitute(scenarios, {"$ZED_FILE": "/w/a.py", "$ZED_WORKTREE_ROOT": "/w"}):
        assert s["adapter"] == "ember" and s["label"]
        errors = [e.message for e in v.iter_errors(s)]
        assert not errors, (s["label"], errors)


def test_extension_crate_unit_tests_pass():
    r = cargo("test", "--quiet")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert re.search(r"test result: ok\. [1-9]\d* passed", r.stdout), r.stdout


def test_extension_builds_for_webassembly():
    targets = subprocess.run(["rustup", "target", "list", "--installed"], capture_output=True, text=True).stdout \
        if shutil.which("rustup") else ""
    if "wasm32-wasip2" not in targets.split():
        pytest.skip("the wasm32-wasip2 target is not installed (rustup target add wasm32-wasip2)")
    r = cargo("build", "--release", "--target", "wasm32-wasip2", "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    wasm = ZED / "target" / "wasm32-wasip2" / "release" / "zed_ember.wasm"
    assert wasm.is_file() and wasm.read_bytes()[:4] == b"\0asm"


def invocations(scenarios):
    proc = subprocess.run(["cargo", "run", "--quiet", "--example", "invocation"], cwd=ZED, input=json.dumps(scenarios),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_ember_dap_runs_each_example_scenario(tmp_path):
    """Zed substitutes $ZED_* variables, then starts the adapter the way get_dap_binary says."""
    current = tmp_path / "current.py"
    current.write_text("import sys, time\ntime.sleep(0.5)\nprint('current', sys.argv[1:])\n")
    (tmp_path / "main.py").write_text("import sys, time\ntime.sleep(0.5)\nprint('main', sys.argv[1:])\n")
    scenarios = substitute(debug_json(), {"$ZED_FILE": str(current), "$ZED_WORKTREE_ROOT": str(tmp_path)})
    expected_output = ["current []", "main ['--size', '10']", "loops, best of"]
    runs = invocations(scenarios)
    assert len(runs) == len(scenarios)
    for scenario, run, expected in zip(scenarios, runs, expected_output):
        assert "error" not in run, run
        assert run["arguments"] == ["dap"] and run["request"] == "launch"
        assert "label" not in run["configuration"] and "adapter" not in run["configuration"]
        dap, response = start_session(ember_bin(), run["request"], run["configuration"], "zed", tmp_path)
        try:
            assert response["success"], (scenario["label"], response)
            out = program_output(dap, timeout=90)
            assert expected in out, (scenario["label"], out)
        finally:
            dap.close()
