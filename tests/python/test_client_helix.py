"""The Helix client (clients/helix/languages.toml): the TOML parses into the shapes Helix 25.x
deserializes, each debugger template expands the way Helix expands it (helix-term's
commands/dap.rs: `{0}`, `{1}`... replaced by the prompted values, a value that is a whole
unsigned integer becomes a JSON number, filename completions are canonicalized, `cwd` is set to
Helix's working directory), and `ember dap` accepts exactly those launch/attach arguments."""
import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from test_client_common import CLIENTS, REPO, SLOW_SCRIPT, ember_bin, program_output, start_session

LANGUAGES = CLIENTS / "helix" / "languages.toml"


def config():
    return tomllib.loads(LANGUAGES.read_text())


def python_language(cfg):
    langs = [l for l in cfg["language"] if l["name"] == "python"]
    assert len(langs) == 1
    return langs[0]


def template(cfg, name):
    return next(t for t in python_language(cfg)["debugger"]["templates"] if t["name"] == name)


def map_value(value, params):
    """Helix's substitution of prompted values into a template's args."""
    if isinstance(value, str):
        for i, p in enumerate(params):
            value = value.replace("{%d}" % i, p)
        return int(value) if value.isdigit() and value.isascii() else value
    if isinstance(value, list):
        return [map_value(v, params) for v in value]
    if isinstance(value, dict):
        return {k: map_value(v, params) for k, v in value.items()}
    return value


def expand(tmpl, params, cwd):
    """What Helix sends as launch/attach arguments for `tmpl` after prompting `params`."""
    prepared = []
    for i, p in enumerate(params):
        c = tmpl.get("completion", [])[i] if i < len(tmpl.get("completion", [])) else None
        if isinstance(c, dict) and c.get("completion") in ("filename", "directory") and os.path.exists(p):
            p = os.path.realpath(p)
        prepared.append(p)
    args = {k: map_value(v, prepared) for k, v in tmpl["args"].items()}
    args["cwd"] = str(cwd)
    return args


# -- the file itself ---------------------------------------------------------------------------

ADAPTER_KEYS = {"name", "transport", "command", "args", "port-arg", "templates", "quirks"}
TEMPLATE_KEYS = {"name", "request", "completion", "args"}
COMPLETION_KEYS = {"name", "completion", "default"}


def test_languages_toml_has_the_shapes_helix_reads():
    cfg = config()
    assert cfg["language-server"]["ember"] == {"command": "ember", "args": ["lsp"]}
    py = python_language(cfg)
    servers = py["language-servers"]
    assert servers[-1] == "ember" and len(servers) >= 2, "ember comes next to the user's own server"
    dbg = py["debugger"]
    assert set(dbg) <= ADAPTER_KEYS
    assert (dbg["name"], dbg["transport"], dbg["command"], dbg["args"]) == ("ember", "stdio", "ember", ["dap"])
    for t in dbg["templates"]:
        assert set(t) <= TEMPLATE_KEYS and {"name", "request", "args"} <= set(t), t
        assert t["request"] in ("launch", "attach")
        for c in t.get("completion", []):
            assert isinstance(c, str) or (isinstance(c, dict) and set(c) <= COMPLETION_KEYS), c
        # every {i} placeholder has a prompt, every prompt is used
        text = json.dumps(t["args"])
        n = len(t.get("completion", []))
        assert all("{%d}" % i in text for i in range(n)), t["name"]
        assert "{%d}" % n not in text, t["name"]


def test_config_toml_switches_inlay_hints_on():
    cfg = tomllib.loads((CLIENTS / "helix" / "config.toml").read_text())
    assert cfg == {"editor": {"lsp": {"display-inlay-hints": True}}}


def test_launch_template_takes_the_file_and_arguments(tmp_path):
    script = tmp_path / "app.py"
    script.write_text("print('hi')\n")
    t = template(config(), "profile file")
    assert t["request"] == "launch"
    assert t["completion"][0]["completion"] == "filename"
    args = expand(t, [str(tmp_path / "." / "app.py"), "--size 10 -v"], tmp_path)
    assert args == {"program": str(script.resolve()), "args": "--size 10 -v ", "cwd": str(tmp_path)}
    # an empty prompt takes the default: no arguments
    default = t["completion"][1]["default"]
    assert expand(t, [str(script), default], tmp_path)["args"].split() == []
    # a lone number stays a string (Helix would otherwise send the JSON number 10)
    assert expand(t, [str(script), "10"], tmp_path)["args"] == "10 "


def test_attach_template_prompts_for_a_pid_and_sends_a_number():
    t = template(config(), "attach")
    assert t["request"] == "attach" and t["completion"] == ["pid"]
    assert expand(t, ["4242"], "/w") == {"processId": 4242, "cwd": "/w"}


def test_expanded_arguments_validate_against_the_schemas(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    schemas = REPO / "schemas"
    launch_schema = json.loads((schemas / "launch.schema.json").read_text())
    attach_schema = json.loads((schemas / "attach.schema.json").read_text())
    cfg = config()
    (tmp_path / "app.py").write_text("pass\n")
    jsonschema.validate(expand(template(cfg, "profile file"), [str(tmp_path / "app.py"), "a b"], tmp_path), launch_schema)
    jsonschema.validate(expand(template(cfg, "profile module"), ["http.server", ""], tmp_path), launch_schema)
    jsonschema.validate(expand(template(cfg, "attach"), ["4242"], tmp_path), attach_schema)


# -- driving the real adapter with those arguments ----------------------------------------------

def _session_started(dap, response, pid):
    """The adapter accepted the arguments and is sampling `pid`: `ember/profile` names it with
    the local flamegraph URL, which Helix users get in an `output` event (Helix drops custom
    events)."""
    assert response["success"], response
    ev = dap.event("ember/profile", timeout=30)
    assert ev["body"]["pid"] == pid, ev
    url = ev["body"]["url"]
    assert url.startswith("http://127.0.0.1:"), ev
    dap.event("output", timeout=10, where=lambda e: url in e["body"].get("output", ""))
    return ev


def _saved_profile(dap):
    ev = dap.event("ember/profile", timeout=30, where=lambda e: e["body"].get("path"))
    path = Path(ev["body"]["path"])
    assert path.is_file() and ev["body"]["samples"] > 0, ev
    return path


def test_launch_template_starts_a_profiling_session(tmp_path):
    script = tmp_path / "busy.py"
    script.write_text(SLOW_SCRIPT)
    args = expand(template(config(), "profile file"), [str(script), "3 alpha beta"], tmp_path)
    dap, response = start_session(ember_bin(), "launch", args, "helix", tmp_path)
    try:
        assert response["success"], response
        pid = dap.event("ember/profile", timeout=30)["body"]["pid"]
        assert "busy.py" in Path(f"/proc/{pid}/cmdline").read_text(), "the profiled process runs the file"
        _session_started(dap, response, pid)
        out = program_output(dap)
        assert "args: ['alpha', 'beta']" in out, out
        assert _saved_profile(dap).parent == tmp_path / ".ember"
    finally:
        dap.close()


def test_launch_template_with_a_single_numeric_argument(tmp_path):
    script = tmp_path / "busy.py"
    script.write_text(SLOW_SCRIPT)
    args = expand(template(config(), "profile file"), [str(script), "1"], tmp_path)
    dap, response = start_session(ember_bin(), "launch", args, "helix", tmp_path)
    try:
        assert response["success"], response
        out = program_output(dap)
        assert "args: []" in out, out
    finally:
        dap.close()


def test_attach_template_starts_a_profiling_session(tmp_path):
    target = subprocess.Popen([sys.executable, "-c", SLOW_SCRIPT, "60"], cwd=tmp_path)
    try:
        time.sleep(0.5)
        args = expand(template(config(), "attach"), [str(target.pid)], tmp_path)
        assert args["processId"] == target.pid
        dap, response = start_session(ember_bin(), "attach", args, "helix", tmp_path)
        try:
            _session_started(dap, response, target.pid)
        finally:
            dap.close(terminate=False)
        assert target.poll() is None, "attach leaves the process running after disconnect"
    finally:
        target.kill()
        target.wait()


# -- the language server as Helix runs it ---------------------------------------------------------

class LspClient:
    """JSON-RPC over stdio with Helix's habits: it answers the server's requests
    (workspace/configuration from the `config` table) and has no inlay-hint refresh."""

    def __init__(self, argv, cwd, config):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     cwd=cwd)
        self.config, self.seq, self.notifications = config, 0, []

    def _send(self, msg):
        body = json.dumps({"jsonrpc": "2.0", **msg}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read(self):
        length = None
        while True:
            line = self.proc.stdout.readline()
            assert line, "ember lsp closed its output"
            if not line.strip():
                break
            k, _, v = line.decode().partition(":")
            if k.lower() == "content-length":
                length = int(v)
        return json.loads(self.proc.stdout.read(length))

    def request(self, method, params):
        self.seq += 1
        self._send({"id": self.seq, "method": method, "params": params})
        while True:
            msg = self._read()
            if "method" in msg and "id" in msg:  # a request from the server
                result = None
                if msg["method"] == "workspace/configuration":
                    result = [self.config for _ in msg["params"]["items"]]
                self._send({"id": msg["id"], "result": result})
            elif "method" in msg:
                self.notifications.append(msg)
            elif msg.get("id") == self.seq:
                assert "error" not in msg, msg
                return msg["result"]

    def notify(self, method, params):
        self._send({"method": method, "params": params})

    def close(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def test_helix_gets_inlay_hints_on_its_first_request(tmp_path):
    """Helix asks once after opening the file and has no refresh: the hints must be there."""
    cfg = config()
    server = cfg["language-server"]["ember"]
    script = tmp_path / "busy.py"
    script.write_text(SLOW_SCRIPT)
    dap, response = start_session(ember_bin(), "launch", {"program": str(script), "args": ["2"], "cwd": str(tmp_path)},
                                  "helix", tmp_path)
    try:
        assert response["success"], response
        dap.event("ember/profile", timeout=60, where=lambda e: e["body"].get("path"))
    finally:
        dap.close()
    assert server["command"] == "ember"
    lsp = LspClient([str(ember_bin()), *server["args"]], tmp_path, server.get("config", {}))
    try:
        uri = script.as_uri()
        lsp.request("initialize", {
            "processId": os.getpid(), "rootUri": tmp_path.as_uri(),
            "workspaceFolders": [{"uri": tmp_path.as_uri(), "name": "w"}],
            "initializationOptions": server.get("config"),
            "capabilities": {"workspace": {"configuration": True, "workspaceFolders": True},
                             "textDocument": {"inlayHint": {"dynamicRegistration": False}},
                             "window": {"showDocument": {"support": True}, "workDoneProgress": True}},
        })
        lsp.notify("initialized", {})
        lsp.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 0,
                                                             "text": script.read_text()}})
        lines = script.read_text().count("\n")
        hints = lsp.request("textDocument/inlayHint", {"textDocument": {"uri": uri},
                                                       "range": {"start": {"line": 0, "character": 0},
                                                                 "end": {"line": lines, "character": 0}}})
        hot = next(i for i, l in enumerate(SLOW_SCRIPT.splitlines()) if "s += i * i" in l)
        labels = {h["position"]["line"]: h["label"] if isinstance(h["label"], str) else h["label"][0]["value"]
                  for h in hints or []}
        assert hot in labels and "%" in labels[hot], hints
    finally:
        lsp.close()
