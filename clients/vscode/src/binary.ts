// Finds the `ember` binary: the `ember.path` setting, else PATH, else an error telling the user
// what to set. No `vscode` import, so it is tested under plain node.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface ResolveInput {
  /** Value of the `ember.path` setting ("" or undefined when unset). */
  configured?: string;
  /** Folder a relative `ember.path` is resolved against (the first workspace folder). */
  workspaceFolder?: string;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** Injected for tests; defaults to a real file-system check. */
  isExecutable?: (file: string) => boolean;
}

export type Resolution =
  | { ok: true; path: string; source: "setting" | "PATH" }
  | { ok: false; message: string };

export function isExecutableFile(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    if (process.platform === "win32") return true;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function expand(value: string, workspaceFolder: string | undefined): string {
  let v = value.trim();
  if (v === "~" || v.startsWith("~/")) v = path.join(os.homedir(), v.slice(1));
  if (workspaceFolder) v = v.split("${workspaceFolder}").join(workspaceFolder);
  if (!path.isAbsolute(v) && workspaceFolder && (v.includes("/") || v.includes("\\"))) {
    v = path.resolve(workspaceFolder, v);
  }
  return v;
}

/** The names `ember` may have on this platform (PATHEXT on Windows). */
function candidates(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
  if (platform !== "win32") return ["ember"];
  const exts = (env.PATHEXT || ".EXE;.CMD;.BAT").split(";").filter(Boolean);
  return exts.map((e) => "ember" + e.toLowerCase());
}

export function searchPath(
  names: string[],
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  isExecutable: (file: string) => boolean,
): string | undefined {
  const sep = platform === "win32" ? ";" : ":";
  const dirs = (env.PATH ?? env.Path ?? "").split(sep).filter(Boolean);
  for (const dir of dirs) {
    for (const name of names) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return undefined;
}

export function resolveEmber(input: ResolveInput): Resolution {
  const isExec = input.isExecutable ?? isExecutableFile;
  const configured = (input.configured ?? "").trim();
  if (configured) {
    const file = expand(configured, input.workspaceFolder);
    if (path.isAbsolute(file)) {
      if (isExec(file)) return { ok: true, path: file, source: "setting" };
      return {
        ok: false,
        message:
          `The setting "ember.path" is "${configured}", but ${file} is not an executable file. ` +
          `Set "ember.path" to the full path of the ember binary, or clear it to use "ember" from PATH.`,
      };
    }
    // A bare name such as "ember-nightly": look it up on PATH.
    const found = searchPath([file], input.env, input.platform, isExec);
    if (found) return { ok: true, path: found, source: "setting" };
    return {
      ok: false,
      message:
        `The setting "ember.path" is "${configured}", which was not found on PATH. ` +
        `Set "ember.path" to the full path of the ember binary.`,
    };
  }
  const found = searchPath(candidates(input.platform, input.env), input.env, input.platform, isExec);
  if (found) return { ok: true, path: found, source: "PATH" };
  return {
    ok: false,
    message:
      `Ember's binary "ember" was not found on PATH. Install it (cargo install --path adapter, ` +
      `from the Ember repository) or set "ember.path" in Settings to the full path of the ember binary.`,
  };
}
