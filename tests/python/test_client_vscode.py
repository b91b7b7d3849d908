"""The VS Code client's debug configurations against the real `ember dap`: the launch.json
entries the extension contributes (initialConfigurations), with the variables VS Code
substitutes (`${file}`, `${command:pickProcess}` -> the picked PID as a string, via the
extension's `ember.pickProcess`), are accepted, and VS Code's extra keys (type, name,
__sessionId) do no harm. The extension's own build and unit tests are in tests/js."""
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from test_client_common import CLIENTS, REPO, SLOW_SCRIPT, ember_bin, program_output, start_session

PACKAGE = json.loads((CLIENTS / "vscode" / "package.json").read_text())
DEBUGGER = next(d for d in PACKAGE["contributes"]["debuggers"] if d["type"] == "ember")


def initial(request):
    return next(c for c in DEBUGGER["initialConfigurations"] if c["request"] == request)


def resolve(config, variables):
    text = json.dumps(config)
    for k, v in variables.items():
        text = text.replace(k, v)
    resolved = json.loads(text)
    resolved["__sessionId"] = str(uuid.uuid4())  # VS Code adds it to every launch/attach
    return resolved


def test_launch_current_file_configuration_runs(tmp_path):
    script = tmp_path / "busy.py"
    script.write_text(SLOW_SCRIPT)
    config = resolve(initial("launch"), {"${file}": str(script)})
    config["args"] = ["1", "x"]
    assert config["program"] == str(script)
    dap, response = start_session(ember_bin(), "launch", config, "vscode", tmp_path)
    try:
        assert response["success"], response
        assert dap.event("ember/profile", timeout=30)["body"]["pid"] > 0
        out = program_output(dap)
        assert "args: ['x']" in out, out
    finally:
        dap.close()


def test_attach_configuration_with_a_picked_pid_string(tmp_path):
    target = subprocess.Popen([sys.executable, "-c", SLOW_SCRIPT, "60"], cwd=tmp_path)
    try:
        time.sleep(0.5)
        config = resolve(initial("attach"), {"${command:pickProcess}": str(target.pid)})
        assert config["processId"] == str(target.pid), "ember.pickProcess returns the PID as a string"
        dap, response = start_session(ember_bin(), "attach", config, "vscode", tmp_path)
        try:
            assert response["success"], response
            assert dap.event("ember/profile", timeout=30)["body"]["pid"] == target.pid
        finally:
            dap.close(terminate=False)
        assert target.poll() is None, "disconnecting from an attach session leaves the process running"
    finally:
        target.kill()
        target.wait()


def test_configurations_validate_against_the_schemas(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    launch = json.loads((REPO / "schemas" / "launch.schema.json").read_text())
    attach = json.loads((REPO / "schemas" / "attach.schema.json").read_text())
    strip = lambda c: {k: v for k, v in c.items() if k not in ("type", "name", "__sessionId")}
    jsonschema.validate(strip(resolve(initial("launch"), {"${file}": "/w/a.py"})), launch)
    jsonschema.validate(strip(resolve(initial("attach"), {"${command:pickProcess}": "4242"})), attach)
    for snippet in DEBUGGER["configurationSnippets"]:
        body = {k: snippet_value(v) for k, v in snippet["body"].items()}
        body = resolve(body, {"${file}": "/w/a.py", "${command:pickProcess}": "4242"})
        schema = launch if body["request"] == "launch" else attach
        jsonschema.validate(strip(body), schema)


def snippet_value(v):
    """A configurationSnippets value as VS Code inserts it: `^"..."` is raw JSON text with the
    snippet escape `\\$`."""
    if isinstance(v, str) and v.startswith("^"):
        return json.loads(v[1:].replace("\\$", "$"))
    return v


def test_snippet_values_insert_the_variables():
    bodies = [{k: snippet_value(v) for k, v in s["body"].items()} for s in DEBUGGER["configurationSnippets"]]
    assert {"program": "${file}"}.items() <= next(b for b in bodies if b["request"] == "launch").items()
    assert next(b for b in bodies if b["request"] == "attach")["processId"] == "${command:pickProcess}"
