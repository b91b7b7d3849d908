// VS Code glue: debug adapter (`ember dap`), language client (`ember lsp`), commands.
// Logic lives in the vscode-free modules beside this one.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions } from "vscode-languageclient/node";
import { resolveEmber, Resolution } from "./binary";
import { attachConfiguration, fillEmptyConfiguration, launchFileConfiguration, TYPE } from "./configurations";
import { FlamegraphOpener } from "./profileEvent";
import { listProcesses } from "./processes";

let client: LanguageClient | undefined;
const flamegraphs = new FlamegraphOpener();

function resolveBinary(): Resolution {
  const configured = vscode.workspace.getConfiguration("ember").get<string>("path");
  return resolveEmber({
    configured,
    workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    env: process.env,
    platform: process.platform,
  });
}

async function reportMissingBinary(message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, "Open Settings");
  if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", "ember.path");
  }
}

class EmberAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  createDebugAdapterDescriptor(): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    const found = resolveBinary();
    if (!found.ok) {
      void reportMissingBinary(found.message);
      throw new Error(found.message);
    }
    return new vscode.DebugAdapterExecutable(found.path, ["dap"]);
  }
}

class EmberConfigurationProvider implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [launchFileConfiguration(), attachConfiguration()];
  }
  resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.ProviderResult<vscode.DebugConfiguration> {
    const doc = vscode.window.activeTextEditor?.document;
    const filled = fillEmptyConfiguration(config, doc && { path: doc.uri.fsPath, languageId: doc.languageId });
    if (!filled) {
      void vscode.window.showInformationMessage("Ember: open a Python file to profile, or add an Ember configuration to launch.json.");
      return undefined; // aborts the launch
    }
    return filled as vscode.DebugConfiguration;
  }
}

/** The settings `ember lsp` reads (the same keys it gets through workspace/configuration). */
function inlineSettings(): Record<string, unknown> {
  const cfg = vscode.workspace.getConfiguration("ember");
  const out: Record<string, unknown> = {};
  for (const key of ["threshold", "metric", "units", "diagnostics", "diagnosticsCount"]) out[key] = cfg.get(key);
  return out;
}

async function startLanguageClient(): Promise<void> {
  const found = resolveBinary();
  if (!found.ok) {
    void reportMissingBinary(found.message);
    return;
  }
  const server: ServerOptions = { command: found.path, args: ["lsp"] };
  const options: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "python" }],
    synchronize: { configurationSection: "ember" },
    initializationOptions: { ember: inlineSettings() },
  };
  client = new LanguageClient("ember", "Ember", server, options);
  try {
    await client.start();
  } catch (e) {
    // Keep the extension (debugging, commands) working without inline timings.
    client = undefined;
    void vscode.window.showErrorMessage(`Ember: could not start "${found.path} lsp": ${e instanceof Error ? e.message : e}`);
  }
}

/** Runs one of the server's workspace/executeCommand commands. */
async function serverCommand(command: string, args: unknown[] = []): Promise<unknown> {
  if (!client) {
    void vscode.window.showWarningMessage("Ember: the language server is not running (see the \"Ember\" output channel).");
    return undefined;
  }
  return client.sendRequest("workspace/executeCommand", { command, arguments: args });
}

async function openUrl(url: string): Promise<void> {
  await vscode.env.openExternal(vscode.Uri.parse(url));
}

async function pickProcess(): Promise<string | undefined> {
  const items = listProcesses([process.pid]).map((p) => ({
    label: `${p.pid}`,
    description: p.isPython ? "python" : undefined,
    detail: p.command,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    placeHolder: "Process to profile (Python processes first)",
    matchOnDetail: true,
  });
  return picked?.label; // a numeric string: ember dap accepts a string or a number
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const sub = (d: vscode.Disposable) => context.subscriptions.push(d);
  sub(vscode.debug.registerDebugAdapterDescriptorFactory(TYPE, new EmberAdapterFactory()));
  sub(vscode.debug.registerDebugConfigurationProvider(TYPE, new EmberConfigurationProvider()));
  sub(
    vscode.debug.onDidReceiveDebugSessionCustomEvent(async (e) => {
      if (e.session.type !== TYPE || e.event !== "ember/profile") return;
      const open = vscode.workspace.getConfiguration("ember").get<boolean>("openFlamegraph", true);
      const url = flamegraphs.onEvent(e.session.id, e.body, open);
      if (url) await openUrl(url);
    }),
  );
  sub(vscode.debug.onDidTerminateDebugSession((s) => flamegraphs.sessionEnded(s.id)));

  sub(vscode.commands.registerCommand("ember.pickProcess", pickProcess));
  sub(
    vscode.commands.registerCommand("ember.profileActiveFile", async () => {
      const doc = vscode.window.activeTextEditor?.document;
      if (!doc || doc.languageId !== "python" || doc.isUntitled) {
        void vscode.window.showWarningMessage("Ember: open a saved Python file to profile it.");
        return false;
      }
      await doc.save();
      const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
      return vscode.debug.startDebugging(folder, launchFileConfiguration(doc.uri.fsPath));
    }),
  );
  sub(
    vscode.commands.registerCommand("ember.attachToProcess", async () => {
      const pid = await pickProcess();
      if (!pid) return false;
      return vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], attachConfiguration(pid));
    }),
  );
  sub(
    vscode.commands.registerCommand("ember.openProfile", async () => {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const files = await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: "Load profile",
        title: "Ember: load a profile",
        defaultUri: folder && vscode.Uri.joinPath(folder, ".ember"),
        filters: { "Ember profiles": ["ember"], "All files": ["*"] },
      });
      if (files?.[0]) await serverCommand("ember.loadProfile", [files[0].fsPath]);
    }),
  );
  sub(
    vscode.commands.registerCommand("ember.showFlamegraph", async () => {
      // The server opens the page itself with window/showDocument {external: true}, which the
      // language client hands to the browser; without a server, reopen the last session's page.
      if (client) await serverCommand("ember.openFlamegraph");
      else if (flamegraphs.lastUrl) await openUrl(flamegraphs.lastUrl);
      else void vscode.window.showInformationMessage("Ember: no profile yet. Run \"Ember: Profile Active File\" first.");
    }),
  );
  sub(vscode.commands.registerCommand("ember.toggleInlineTimings", () => serverCommand("ember.toggleInline")));

  sub(
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration("ember.path")) return;
      await client?.stop();
      client = undefined;
      await startLanguageClient();
    }),
  );
  context.subscriptions.push({ dispose: () => void client?.stop() });

  await startLanguageClient();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
