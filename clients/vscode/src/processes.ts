// Lists local processes for the attach picker (`${command:pickProcess}`), Python ones first.
// No `vscode` import: tested under plain node.
import * as fs from "fs";
import { execFileSync } from "child_process";

export interface ProcessInfo {
  pid: number;
  command: string;
  isPython: boolean;
}

const PYTHON = /^(python|pypy)[0-9.]*(\.exe)?$/i;

/** True when the program (first word, any directory) is a Python interpreter. */
export function looksLikePython(command: string): boolean {
  const program = command.trim().split(/\s+/, 1)[0] ?? "";
  return PYTHON.test(program.split(/[\/\\]/).pop() ?? "");
}

function fromProc(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string;
    try {
      cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    } catch {
      continue; // exited meanwhile
    }
    if (!cmd) continue; // kernel threads
    out.push({ pid: Number(entry), command: cmd, isPython: looksLikePython(cmd) });
  }
  return out;
}

function fromPs(): ProcessInfo[] {
  const text = execFileSync("ps", ["-axo", "pid=,command="], { encoding: "utf8" });
  return text
    .split("\n")
    .map((l) => l.trim().match(/^(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), command: m[2], isPython: looksLikePython(m[2]) }));
}

/** Local processes, Python first, then by pid; excludes `exclude` (the editor itself). */
export function listProcesses(exclude: number[] = []): ProcessInfo[] {
  const all = fs.existsSync("/proc/self/cmdline") ? fromProc() : fromPs();
  return all
    .filter((p) => !exclude.includes(p.pid))
    .sort((a, b) => Number(b.isPython) - Number(a.isPython) || a.pid - b.pid);
}
