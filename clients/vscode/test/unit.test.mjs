// The extension's own tests: its modules that do not import `vscode`, run under plain node
// against the compiled output (npm test compiles first).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const binary = require("../out/binary.js");
const profileEvent = require("../out/profileEvent.js");
const processes = require("../out/processes.js");
const configurations = require("../out/configurations.js");

function fakeBin(dir, name = "ember") {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, "#!/bin/sh\n");
  chmodSync(file, 0o755);
  return file;
}

test("binary: ember on PATH is found when ember.path is unset", () => {
  const root = mkdtempSync(join(tmpdir(), "ember-bin-"));
  const bin = fakeBin(join(root, "b"));
  const r = binary.resolveEmber({ env: { PATH: `${join(root, "a")}:${join(root, "b")}` }, platform: "linux" });
  assert.deepEqual(r, { ok: true, path: bin, source: "PATH" });
});

test("binary: ember.path wins over PATH, relative paths resolve against the workspace", () => {
  const root = mkdtempSync(join(tmpdir(), "ember-bin-"));
  fakeBin(join(root, "onpath"));
  const mine = fakeBin(join(root, "ws", "target", "debug"));
  const env = { PATH: join(root, "onpath") };
  assert.deepEqual(binary.resolveEmber({ configured: mine, env, platform: "linux" }), { ok: true, path: mine, source: "setting" });
  const rel = binary.resolveEmber({ configured: "target/debug/ember", workspaceFolder: join(root, "ws"), env, platform: "linux" });
  assert.deepEqual(rel, { ok: true, path: mine, source: "setting" });
  const ws = binary.resolveEmber({ configured: "${workspaceFolder}/target/debug/ember", workspaceFolder: join(root, "ws"), env, platform: "linux" });
  assert.equal(ws.path, mine);
});

test("binary: a non-executable file is not taken", () => {
  const root = mkdtempSync(join(tmpdir(), "ember-bin-"));
  writeFileSync(join(root, "ember"), "not executable");
  const r = binary.resolveEmber({ env: { PATH: root }, platform: "linux" });
  assert.equal(r.ok, false);
});

test("binary: missing everywhere gives a message that says what to set", () => {
  const r = binary.resolveEmber({ env: { PATH: "/nonexistent-ember-dir" }, platform: "linux" });
  assert.equal(r.ok, false);
  assert.match(r.message, /not found on PATH/);
  assert.match(r.message, /"ember\.path"/);
});

test("binary: a wrong ember.path names the path and the setting", () => {
  const r = binary.resolveEmber({ configured: "/no/such/ember", env: { PATH: "" }, platform: "linux" });
  assert.equal(r.ok, false);
  assert.match(r.message, /\/no\/such\/ember/);
  assert.match(r.message, /"ember\.path"/);
});

test("binary: Windows uses PATHEXT and ';'", () => {
  const seen = [];
  const r = binary.resolveEmber({
    env: { Path: "C:\\a;C:\\b", PATHEXT: ".COM;.EXE" },
    platform: "win32",
    isExecutable: (f) => (seen.push(f), f.endsWith("ember.exe") && f.includes("b")),
  });
  assert.equal(r.ok, true);
  assert.ok(seen.some((f) => f.endsWith("ember.com")));
});

test("profile event: local flamegraph URLs only", () => {
  const ok = profileEvent.parseProfileEvent({ url: "http://127.0.0.1:4242/t/abc/", path: "/w/.ember/p.json.gz", samples: 12 });
  assert.deepEqual(ok, { url: "http://127.0.0.1:4242/t/abc/", path: "/w/.ember/p.json.gz", samples: 12 });
  assert.equal(profileEvent.parseProfileEvent({ url: "https://evil.example/" }).url, undefined);
  assert.equal(profileEvent.parseProfileEvent({ url: "file:///etc/passwd" }).url, undefined);
  assert.equal(profileEvent.parseProfileEvent({ url: 42 }).url, undefined);
  assert.equal(profileEvent.parseProfileEvent({ url: null, path: "/p" }).path, "/p");
  assert.equal(profileEvent.parseProfileEvent(null), undefined);
  assert.ok(profileEvent.isLocalFlamegraphUrl("http://localhost:1/"));
  assert.ok(profileEvent.isLocalFlamegraphUrl("http://[::1]:1/x/"));
  assert.ok(!profileEvent.isLocalFlamegraphUrl("http://127.0.0.1.evil.example/"));
});

test("profile event: the browser opens once per session, on the first event with a URL", () => {
  const o = new profileEvent.FlamegraphOpener();
  assert.equal(o.onEvent("s1", { url: null, pid: 5, samples: 0 }, true), undefined, "no page served yet");
  assert.equal(o.onEvent("s1", { url: "http://127.0.0.1:1/a/" }, true), "http://127.0.0.1:1/a/");
  assert.equal(o.onEvent("s1", { url: "http://127.0.0.1:1/a/", path: "/w/p" }, true), undefined, "saved: no second tab");
  assert.equal(o.onEvent("s2", { url: "http://127.0.0.1:1/b/" }, false), undefined, "setting off");
  assert.equal(o.lastUrl, "http://127.0.0.1:1/b/", "Show Flamegraph can still reopen it");
  assert.equal(o.onEvent("s3", { url: "https://evil.example/" }, true), undefined);
  o.sessionEnded("s1");
  assert.equal(o.onEvent("s1", { url: "http://127.0.0.1:1/c/" }, true), "http://127.0.0.1:1/c/");
});

test("processes: a running Python process is listed first and flagged", async () => {
  const child = spawn("python3", ["-c", "import time; time.sleep(30)"], { stdio: "ignore" });
  try {
    // python3 may be a launcher script (pyenv) that execs the interpreter: wait for the exec.
    let list = [];
    let mine;
    for (let i = 0; i < 100 && !mine?.isPython; i++) {
      await new Promise((r) => setTimeout(r, 100));
      list = processes.listProcesses([process.pid]);
      mine = list.find((p) => p.pid === child.pid);
    }
    assert.ok(mine, "the spawned python process is listed");
    assert.equal(mine.isPython, true, mine.command);
    assert.ok(!list.some((p) => p.pid === process.pid), "excluded pid is not listed");
    const firstNonPython = list.findIndex((p) => !p.isPython);
    assert.ok(list.slice(firstNonPython).every((p) => !p.isPython), "python processes come first");
  } finally {
    child.kill();
  }
});

test("processes: python detection", () => {
  assert.equal(processes.looksLikePython("/usr/bin/python3.12 -m http.server"), true);
  assert.equal(processes.looksLikePython("C:\\Python\\python.exe app.py"), true);
  assert.equal(processes.looksLikePython("/usr/bin/bash python3"), false);
});

test("configurations: F5 without launch.json profiles the active Python file", () => {
  const filled = configurations.fillEmptyConfiguration({}, { path: "/w/app.py", languageId: "python" });
  assert.equal(filled.type, "ember");
  assert.equal(filled.request, "launch");
  assert.equal(filled.program, "/w/app.py");
  assert.equal(configurations.fillEmptyConfiguration({}, { path: "/w/a.txt", languageId: "plaintext" }), undefined);
  const given = { type: "ember", request: "attach", name: "x", processId: 3 };
  assert.equal(configurations.fillEmptyConfiguration(given, undefined), given);
  assert.equal(configurations.attachConfiguration().processId, "${command:pickProcess}");
});
