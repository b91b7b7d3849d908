// `ember dap` driven by VS Code's own DebugClient (@vscode/debugadapter-testsupport): launch a
// script, attach to a PID, pause/threads/stackTrace/variables/continue, terminate, disconnect
// both ways, the adapter killed by the client, TCP, and the errors a user can hit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DebugClient } from '@vscode/debugadapter-testsupport';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.EMBER_BIN ?? [path.join(root, 'target/release/ember'), path.join(root, 'target/debug/ember')].find(existsSync);
const PYTHON = process.env.EMBER_TEST_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const LONG = 60000;

const WORKLOAD = `
import os, sys, threading, time

def spin(seconds):
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        n += sum(range(200))
    return n

seconds = float(sys.argv[1])
code = int(sys.argv[2]) if len(sys.argv) > 2 else 0
print("workload started", flush=True)
t = threading.Thread(target=spin, args=(seconds,), name="worker-1", daemon=True)
t.start()
spin(seconds)
sys.exit(code)
`;

function workspace() {
  const dir = mkdtempSync(path.join(tmpdir(), 'ember-dap-js-'));
  writeFileSync(path.join(dir, 'work.py'), WORKLOAD);
  return dir;
}

function launchArgs(dir, seconds, code = 0) {
  return { type: 'ember', request: 'launch', name: 'work', program: 'work.py', args: [String(seconds), String(code)], cwd: dir, python: PYTHON, rate: 200 };
}

// A DebugClient that records every event it sees, in order (waitForEvent only sees events
// that arrive after it is called).
async function client(port) {
  const dc = new DebugClient(BIN, 'dap', 'ember');
  dc.defaultTimeout = 20000;
  await dc.start(port);
  dc.seen = [];
  const emit = dc.emit.bind(dc);
  dc.emit = (name, ...rest) => {
    if (rest[0] && rest[0].type === 'event') dc.seen.push(rest[0]);
    return emit(name, ...rest);
  };
  return dc;
}

// Resolves with the first recorded event matching, waiting for it if needed.
function eventWhere(dc, name, pred = () => true, timeout = 20000) {
  const hit = dc.seen.find((e) => e.event === name && pred(e));
  if (hit) return Promise.resolve(hit);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} event in ${timeout} ms; seen ${dc.seen.map((e) => e.event)}`)), timeout);
    const on = (e) => {
      if (pred(e)) {
        clearTimeout(timer);
        dc.removeListener(name, on);
        resolve(e);
      }
    };
    dc.on(name, on);
  });
}

const savedPath = (dc) => dc.seen.filter((e) => e.event === 'ember/profile' && e.body.path).map((e) => e.body.path).pop();
const alive = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('launch a script: URL as important output, program output, exit code, saved profile', { timeout: LONG }, async () => {
  const dir = workspace();
  const dc = await client();
  try {
    // VS Code's order: initialize, then launch while configuration runs after `initialized`.
    const configured = dc.configurationSequence();
    await dc.initializeRequest({ clientID: 'vscode', adapterID: 'ember', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsProgressReporting: true });
    await Promise.all([configured, dc.launchRequest(launchArgs(dir, 1, 4))]);
    const important = await eventWhere(dc, 'output', (e) => e.body.category === 'important');
    assert.match(important.body.output, /profiling work \(PID \d+\) at 200 Hz\. Flamegraph: http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    const started = await eventWhere(dc, 'ember/profile');
    assert.ok(important.body.output.includes(started.body.url));
    const page = await fetch(started.body.url);
    assert.equal(page.status, 200);
    await eventWhere(dc, 'output', (e) => e.body.category === 'stdout' && e.body.output === 'workload started\n');
    await eventWhere(dc, 'progressStart');
    const exited = await eventWhere(dc, 'exited');
    assert.equal(exited.body.exitCode, 4);
    await eventWhere(dc, 'terminated');
    const saved = savedPath(dc);
    assert.ok(saved && saved.startsWith(path.join(dir, '.ember')), saved);
    assert.ok(existsSync(saved));
    assert.equal(readFileSync(path.join(dir, '.ember', 'latest'), 'utf8').trim(), path.basename(saved));
    const end = dc.seen.findIndex((e) => e.event === 'progressEnd');
    assert.ok(end >= 0 && end < dc.seen.findIndex((e) => e.event === 'terminated'));
  } finally {
    await dc.stop();
  }
});

test('attach to a PID given as a string: pause, threads, stackTrace, variables, continue, detach', { timeout: LONG }, async () => {
  const dir = workspace();
  const target = spawn(PYTHON, [path.join(dir, 'work.py'), '60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((r) => createInterface({ input: target.stdout }).once('line', r));
  const dc = await client();
  try {
    await dc.initializeRequest();
    await dc.attachRequest({ type: 'ember', request: 'attach', name: 'pick', processId: String(target.pid), cwd: dir, rate: 200 });
    const started = await eventWhere(dc, 'ember/profile');
    assert.equal(started.body.pid, target.pid);
    await sleep(800);
    const stopped = eventWhere(dc, 'stopped');
    await dc.pauseRequest({ threadId: target.pid });
    assert.equal((await stopped).body.reason, 'pause');
    const stat = readFileSync(`/proc/${target.pid}/stat`, 'utf8');
    assert.equal(stat.slice(stat.lastIndexOf(')') + 2)[0], 'T');
    const threads = (await dc.threadsRequest()).body.threads;
    // Python's own names, read from the target (the DebugClient's thread list shows them).
    assert.deepEqual(threads.map((t) => t.name).sort(), ['MainThread', 'worker-1']);
    const main = threads.find((t) => t.name === 'MainThread');
    assert.ok(main, JSON.stringify(threads));
    const frames = (await dc.stackTraceRequest({ threadId: main.id })).body.stackFrames;
    assert.equal(frames[0].name, 'spin');
    assert.equal(frames[0].source.path, path.join(dir, 'work.py'));
    assert.ok(frames[0].line >= 6 && frames[0].line <= 8, `line ${frames[0].line}`);
    assert.equal(frames.at(-1).name, '<module>');
    const scopes = (await dc.scopesRequest({ frameId: frames[0].id })).body.scopes;
    assert.deepEqual(scopes.map((s) => s.name), ['Hottest functions', 'Hottest lines']);
    const vars = (await dc.variablesRequest({ variablesReference: scopes[0].variablesReference })).body.variables;
    assert.match(vars[0].name, /^spin /);
    assert.match(vars[0].value, /^total \d+\.\d% · self \d+\.\d%$/);
    // The custom request gives the same facts as the event, live.
    const status = (await dc.customRequest('ember/profile')).body;
    assert.equal(status.pid, target.pid);
    assert.equal(status.url, started.body.url);
    assert.equal(status.paused, true);
    assert.ok(status.samples > 0);
    assert.equal(status.path, null);
    const cont = await dc.continueRequest({ threadId: main.id });
    assert.equal(cont.body.allThreadsContinued, true);
    await dc.disconnectRequest({});
    await sleep(200);
    assert.ok(alive(target.pid), 'detached, still running');
    assert.ok(existsSync(savedPath(dc)));
  } finally {
    target.kill('SIGKILL');
    dc.stopAdapter();
  }
});

test('terminate ends a launched program; the profile is saved before terminated', { timeout: LONG }, async () => {
  const dir = workspace();
  const dc = await client();
  try {
    await dc.initializeRequest();
    await dc.launchRequest(launchArgs(dir, 60));
    const { body } = await eventWhere(dc, 'ember/profile');
    await sleep(500);
    const terminated = eventWhere(dc, 'terminated');
    await dc.terminateRequest({});
    await terminated;
    assert.ok(!alive(body.pid));
    // The daemon worker does not hold it up: SIGINT alone ends it (128 + 2).
    assert.equal(dc.seen.find((e) => e.event === 'exited').body.exitCode, 130);
    assert.ok(existsSync(savedPath(dc)));
  } finally {
    await dc.stop();
  }
});

test('disconnect with terminateDebuggee ends an attached program', { timeout: LONG }, async () => {
  const dir = workspace();
  const target = spawn(PYTHON, [path.join(dir, 'work.py'), '60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((r) => createInterface({ input: target.stdout }).once('line', r));
  const exited = new Promise((r) => target.once('exit', (code, signal) => r(signal)));
  const dc = await client();
  try {
    await dc.initializeRequest();
    await dc.attachRequest({ type: 'ember', request: 'attach', name: 'pid', processId: target.pid, cwd: dir });
    await eventWhere(dc, 'ember/profile');
    await dc.disconnectRequest({ terminateDebuggee: true });
    assert.equal(await exited, 'SIGINT');
    assert.ok(existsSync(savedPath(dc)));
  } finally {
    dc.stopAdapter();
  }
});

test('the client killing the adapter mid-session (DebugClient.stopAdapter: SIGTERM) still saves', { timeout: LONG }, async () => {
  const dir = workspace();
  const dc = await client();
  await dc.initializeRequest();
  await dc.launchRequest(launchArgs(dir, 60));
  const { body } = await eventWhere(dc, 'ember/profile');
  await sleep(700);
  const adapter = dc._adapterProcess;
  const gone = new Promise((r) => adapter.once('exit', (code) => r(code)));
  dc.stopAdapter();
  assert.equal(await gone, 0);
  const files = readdirSync(path.join(dir, '.ember')).filter((f) => f.endsWith('.ember'));
  assert.equal(files.length, 1, files.join());
  await sleep(200);
  assert.ok(!alive(body.pid), 'a launched program does not outlive its adapter');
});

test('TCP: --port 0 prints the port and DebugClient connects to it', { timeout: LONG }, async () => {
  const dir = workspace();
  const server = spawn(BIN, ['dap', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((r) => createInterface({ input: server.stdout }).once('line', r));
  const port = Number(line.split(':').pop());
  assert.ok(port > 0, line);
  const dc = await client(port);
  try {
    await dc.initializeRequest();
    await dc.configurationDoneRequest(); // before launch, as Helix does
    await dc.launchRequest(launchArgs(dir, 0.5, 0));
    await eventWhere(dc, 'terminated');
    assert.equal(dc.seen.find((e) => e.event === 'exited').body.exitCode, 0);
    await dc.disconnectRequest({});
  } finally {
    dc.stopAdapter();
    server.kill('SIGTERM');
  }
});

test('errors come back as messages that say what to do, and the adapter keeps serving', { timeout: LONG }, async () => {
  const dir = workspace();
  const dc = await client();
  const failure = async (p) => {
    try {
      await p;
    } catch (e) {
      return e.message;
    }
    assert.fail('request should have failed');
  };
  try {
    await dc.initializeRequest();
    assert.match(await failure(dc.launchRequest({ cwd: dir })), /needs `program`.*or `module`/);
    assert.match(await failure(dc.launchRequest({ cwd: dir, program: 'nope.py' })), /nope\.py not found: check `program`/);
    assert.match(await failure(dc.launchRequest({ cwd: dir, program: 'work.py', python: '/no/python' })), /`python`/);
    assert.match(await failure(dc.attachRequest({ processId: '${command:pickProcess}' })), /`processId` must be the PID/);
    const dead = spawnSync('/bin/true').pid;
    assert.match(await failure(dc.attachRequest({ processId: dead })), new RegExp(`no process with PID ${dead}`));
    const sleeper = spawn('/bin/sleep', ['30']);
    try {
      assert.match(await failure(dc.attachRequest({ processId: sleeper.pid })), /is not a Python process/);
    } finally {
      sleeper.kill();
    }
    assert.match(await failure(dc.evaluateRequest({ expression: '1' })), /does not support the 'evaluate' request/);
    // Still serving: a real launch works after all of that.
    await dc.launchRequest(launchArgs(dir, 0.3, 0));
    await eventWhere(dc, 'terminated');
  } finally {
    await dc.stop();
  }
});
