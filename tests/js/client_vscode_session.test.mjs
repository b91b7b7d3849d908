// The VS Code extension's event handling against the real adapter, through VS Code's own DAP
// client library (@vscode/debugadapter-testsupport's DebugClient): the launch configuration the
// extension contributes (with ${file} resolved) starts a session, and the `ember/profile`
// events `ember dap` sends make the extension's FlamegraphOpener open exactly one local page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DebugClient } from "@vscode/debugadapter-testsupport";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const ext = path.join(root, "clients", "vscode");
const BIN = process.env.EMBER_BIN ?? [path.join(root, "target/release/ember"), path.join(root, "target/debug/ember")].find(existsSync);
// python3 for the adapter's default interpreter: the tests' venv, as scripts/test.sh sets PATH.
const venv = path.join(root, ".tools", "venv", "bin");
if (existsSync(venv) && !(process.env.PATH ?? "").startsWith(venv)) process.env.PATH = `${venv}:${process.env.PATH}`;

function compiled() {
  if (!existsSync(path.join(ext, "node_modules", "typescript"))) {
    spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: ext, stdio: "inherit" });
  }
  const r = spawnSync(process.execPath, [path.join(ext, "node_modules", "typescript", "bin", "tsc"), "-p", "."], { cwd: ext, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return createRequire(import.meta.url)(path.join(ext, "out", "profileEvent.js"));
}

const SCRIPT = `
import sys, time
end = time.time() + float(sys.argv[1])
n = 0
while time.time() < end:
    n += sum(range(300))
print("done", sys.argv[2:], flush=True)
`;

test("the contributed launch configuration runs and opens one flamegraph page", async () => {
  assert.ok(BIN, "no ember binary: cargo build (or set EMBER_BIN)");
  const { FlamegraphOpener } = compiled();
  const pkg = JSON.parse(readFileSync(path.join(ext, "package.json"), "utf8"));
  const initial = pkg.contributes.debuggers.find((d) => d.type === "ember").initialConfigurations.find((c) => c.request === "launch");
  const dir = mkdtempSync(path.join(tmpdir(), "ember-vscode-"));
  const file = path.join(dir, "busy.py");
  writeFileSync(file, SCRIPT);
  const config = { ...JSON.parse(JSON.stringify(initial).replaceAll("${file}", file)), args: ["1.5", "vscode"], cwd: dir, __sessionId: "s-1" };

  const dc = new DebugClient(BIN, "dap", "ember", { cwd: dir });
  dc.defaultTimeout = 30000;
  const profiles = [];
  dc.on("ember/profile", (e) => profiles.push(e.body));
  await dc.start();
  try {
    const terminated = dc.waitForEvent("terminated", 60000);
    await Promise.all([dc.configurationSequence(), dc.launch(config)]);
    await terminated;
  } finally {
    await dc.stop();
  }

  assert.ok(profiles.length >= 2, `ember/profile at start and when saved: ${JSON.stringify(profiles)}`);
  const opener = new FlamegraphOpener();
  const opened = profiles.map((body) => opener.onEvent("s-1", body, true)).filter(Boolean);
  assert.equal(opened.length, 1, `one page per session: ${JSON.stringify(profiles)}`);
  assert.match(opened[0], /^http:\/\/127\.0\.0\.1:\d+\//);
  const saved = profiles.find((b) => b.path);
  assert.ok(saved && existsSync(saved.path) && saved.samples > 0, JSON.stringify(saved));
});
