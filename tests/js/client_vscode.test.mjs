// The VS Code client (clients/vscode): compiles with tsc, its package.json contributions are
// consistent with the code, its configurationAttributes are exactly those generated from
// schemas/, its own unit tests pass, and `vsce package` builds a .vsix holding the compiled JS.
// VS Code itself cannot be downloaded here (@vscode/test-electron fetches it from outside the
// package registries), so the extension is not run inside VS Code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ext = join(repo, "clients", "vscode");
const pkg = () => JSON.parse(readFileSync(join(ext, "package.json"), "utf8"));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ext, encoding: "utf8", ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

// Installs the extension's own npm dependencies (from its lock file) when missing.
if (!existsSync(join(ext, "node_modules", "typescript"))) {
  run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
}

test("compiles with tsc", () => {
  run(process.execPath, [join(ext, "node_modules", "typescript", "bin", "tsc"), "-p", "."]);
  for (const m of ["extension", "binary", "configurations", "profileEvent", "processes"]) {
    assert.ok(existsSync(join(ext, "out", `${m}.js`)), `out/${m}.js`);
  }
  assert.ok(existsSync(join(ext, pkg().main)), "package.json main points at the compiled entry");
});

test("the extension's own unit tests pass", () => {
  const files = readdirSync(join(ext, "test")).filter((f) => f.endsWith(".test.mjs")).map((f) => join("test", f));
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // let the child report as a top-level run
  const r = run(process.execPath, ["--test", "--test-reporter=tap", ...files], { env });
  assert.match(r.stdout, /# fail 0/);
  assert.match(r.stdout, /# pass [1-9]/);
});

test("every declared command has a handler and every handler is declared", () => {
  const src = readFileSync(join(ext, "src", "extension.ts"), "utf8");
  const registered = [...src.matchAll(/registerCommand\(\s*"([^"]+)"/g)].map((m) => m[1]).sort();
  const p = pkg();
  const declared = p.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(registered, declared);
  const titles = p.contributes.commands.map((c) => `${c.category}: ${c.title}`);
  for (const t of ["Ember: Profile Active File", "Ember: Attach to Process", "Ember: Load Profile", "Ember: Show Flamegraph", "Ember: Toggle Inline Timings"]) {
    assert.ok(titles.includes(t), `command "${t}" is contributed`);
  }
  // Menus, activation events and debugger variables name only declared commands.
  for (const items of Object.values(p.contributes.menus)) {
    for (const item of items) assert.ok(declared.includes(item.command), `menu names ${item.command}`);
  }
  for (const ev of p.activationEvents.filter((e) => e.startsWith("onCommand:"))) {
    assert.ok(declared.includes(ev.slice("onCommand:".length)), ev);
  }
  const dbg = p.contributes.debuggers.find((d) => d.type === "ember");
  for (const cmd of Object.values(dbg.variables)) assert.ok(declared.includes(cmd), `variable command ${cmd}`);
  // Server-side command ids must not be reused: vscode-languageclient registers those itself.
  for (const serverCmd of ["ember.openFlamegraph", "ember.loadProfile", "ember.clearFocus", "ember.toggleInline"]) {
    assert.ok(!declared.includes(serverCmd), `${serverCmd} is left to the language client`);
  }
});

test("every setting the code reads is declared, with the documented defaults", () => {
  const src = readFileSync(join(ext, "src", "extension.ts"), "utf8");
  const read = [...src.matchAll(/getConfiguration\("ember"\)\.get(?:<[^>]+>)?\(\s*"([^"]+)"/g)].map((m) => `ember.${m[1]}`);
  const forwarded = JSON.parse(src.match(/for \(const key of (\[[^\]]*\])\) out\[key\]/)[1]);
  const props = pkg().contributes.configuration.properties;
  assert.ok(read.length >= 2 && forwarded.length >= 3);
  for (const key of [...read, ...forwarded.map((k) => `ember.${k}`)]) assert.ok(props[key], `${key} is declared`);
  // Every setting forwarded to `ember lsp` is one the server reads (adapter/src/lsp/settings.rs).
  const server = readFileSync(join(repo, "adapter", "src", "lsp", "settings.rs"), "utf8");
  for (const key of forwarded) assert.match(server, new RegExp(`"${key}"\\s*(\\||=>)`), `ember lsp reads ${key}`);
  assert.equal(props["ember.openFlamegraph"].default, true);
  assert.equal(props["ember.path"].type, "string");
});

test("initial configurations and snippets: launch ${file}, attach ${command:pickProcess}", () => {
  const dbg = pkg().contributes.debuggers.find((d) => d.type === "ember");
  const launch = dbg.initialConfigurations.find((c) => c.request === "launch");
  const attach = dbg.initialConfigurations.find((c) => c.request === "attach");
  assert.equal(launch.program, "${file}");
  assert.equal(attach.processId, "${command:pickProcess}");
  assert.equal(dbg.variables.pickProcess, "ember.pickProcess");
  const bodies = dbg.configurationSnippets.map((s) => s.body);
  assert.ok(bodies.some((b) => b.request === "launch" && b.program === '^"\\${file}"'));
  assert.ok(bodies.some((b) => b.request === "attach" && b.processId === '^"\\${command:pickProcess}"'));
  for (const c of [...dbg.initialConfigurations, ...bodies]) assert.equal(c.type, "ember");
});

test("configurationAttributes are generated from schemas/ and up to date", async () => {
  const gen = await import(pathToFileURL(join(ext, "scripts", "generate-contributions.mjs")).href);
  const current = readFileSync(join(ext, "package.json"), "utf8");
  assert.equal(gen.regeneratedPackageJson(current), current, "run `npm run generate` in clients/vscode");
  const attrs = pkg().contributes.debuggers.find((d) => d.type === "ember").configurationAttributes;
  const schemas = gen.readSchemas(join(repo, "schemas"));
  for (const request of ["launch", "attach"]) {
    const schema = schemas[request];
    const fields = Object.keys(schema.properties).filter((k) => !["type", "request", "name"].includes(k));
    assert.deepEqual(Object.keys(attrs[request].properties).sort(), fields.sort(), `${request} fields`);
    assert.ok(!JSON.stringify(attrs[request]).includes("$ref"), "no dangling $ref");
    for (const f of fields) {
      if (!JSON.stringify(schema.properties[f]).includes("$ref")) {
        assert.deepEqual(attrs[request].properties[f], schema.properties[f], `${request}.${f}`);
      }
    }
  }
  assert.ok(attrs.attach.properties.processId, "attach takes processId");
  assert.ok(attrs.launch.properties.program && attrs.launch.properties.module, "launch takes program or module");
});

// Lists the entries of a zip archive from its central directory.
function zipEntries(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, "zip end-of-central-directory record");
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(off), 0x02014b50, "central directory header");
    const nameLen = buf.readUInt16LE(off + 28), extraLen = buf.readUInt16LE(off + 30), commentLen = buf.readUInt16LE(off + 32);
    names.push(buf.toString("utf8", off + 46, off + 46 + nameLen));
    off += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

test("vsce package builds a .vsix with the compiled extension and its runtime dependencies", () => {
  const out = join(mkdtempSync(join(tmpdir(), "ember-vsix-")), "ember-profiler.vsix");
  run(process.execPath, [join(ext, "node_modules", "@vscode", "vsce", "vsce"), "package", "--skip-license", "--out", out]);
  const names = zipEntries(readFileSync(out));
  for (const f of ["extension/package.json", "extension/out/extension.js", "extension/out/binary.js", "extension/readme.md", "extension.vsixmanifest"]) {
    assert.ok(names.includes(f), `${f} in the vsix`);
  }
  assert.ok(names.some((n) => n.startsWith("extension/node_modules/vscode-languageclient/")), "vscode-languageclient is bundled");
  assert.ok(!names.some((n) => n.endsWith(".ts") && n.startsWith("extension/src/")), "no TypeScript sources");
  assert.ok(!names.some((n) => n.startsWith("extension/node_modules/typescript/")), "no dev dependencies");
});
