// Debug configurations Ember offers. No `vscode` import: tested under plain node.
// Field names are those of schemas/launch.schema.json and schemas/attach.schema.json.

export interface EmberConfiguration {
  type: "ember";
  request: "launch" | "attach";
  name: string;
  [key: string]: unknown;
}

export const TYPE = "ember";

export function launchFileConfiguration(program = "${file}"): EmberConfiguration {
  return {
    type: TYPE,
    request: "launch",
    name: "Ember: profile current file",
    program,
    args: [],
    console: "integratedTerminal",
  };
}

export function attachConfiguration(processId: string | number = "${command:pickProcess}"): EmberConfiguration {
  return { type: TYPE, request: "attach", name: "Ember: attach to process", processId };
}

/**
 * What F5 runs when launch.json is empty or missing (VS Code passes `{}`): profile the active
 * Python file. Returns undefined when there is nothing sensible to run, so the caller can say so.
 */
export function fillEmptyConfiguration(
  config: Record<string, unknown>,
  activeFile: { path: string; languageId: string } | undefined,
): Record<string, unknown> | undefined {
  if (config.type || config.request || config.name) return config;
  if (!activeFile || activeFile.languageId !== "python") return undefined;
  return launchFileConfiguration(activeFile.path);
}
