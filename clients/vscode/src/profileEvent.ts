// The `ember/profile` custom DAP event: {url, path, samples}. Only a flamegraph served by Ember
// on this machine is opened, so a malformed or hostile event cannot open arbitrary pages.

export interface ProfileEvent {
  /** The flamegraph page, when Ember serves one (null or absent otherwise). */
  url?: string;
  path?: string;
  samples?: number;
}

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function isLocalFlamegraphUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return (u.protocol === "http:" || u.protocol === "https:") && LOCAL_HOSTS.has(u.hostname);
}

/** The event's fields; a URL that is not a local http(s) page is dropped. */
export function parseProfileEvent(body: unknown): ProfileEvent | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as Record<string, unknown>;
  return {
    url: typeof b.url === "string" && isLocalFlamegraphUrl(b.url) ? b.url : undefined,
    path: typeof b.path === "string" ? b.path : undefined,
    samples: typeof b.samples === "number" ? b.samples : undefined,
  };
}

/**
 * Decides, per debug session, which `ember/profile` events open the browser: the first one
 * carrying a URL (the adapter reports the profile again when it is saved, which must not open
 * a second tab). Returns the URL to open, or undefined.
 */
export class FlamegraphOpener {
  private opened = new Set<string>();
  lastUrl: string | undefined;

  onEvent(sessionId: string, body: unknown, openSetting: boolean): string | undefined {
    const ev = parseProfileEvent(body);
    if (!ev?.url) return undefined;
    this.lastUrl = ev.url;
    if (!openSetting || this.opened.has(sessionId)) return undefined;
    this.opened.add(sessionId);
    return ev.url;
  }

  sessionEnded(sessionId: string): void {
    this.opened.delete(sessionId);
  }
}
