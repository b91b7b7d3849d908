// The `ember/profile` custom DAP event: {url, path, samples}. Only a flamegraph served by Ember
// on this machine is opened, so a malformed or hostile event cannot open arbitrary pages.

export interface ProfileEvent {
  url: string;
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

/** The event's body when it carries a local flamegraph URL, else undefined. */
export function parseProfileEvent(body: unknown): ProfileEvent | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.url !== "string" || !isLocalFlamegraphUrl(b.url)) return undefined;
  return {
    url: b.url,
    path: typeof b.path === "string" ? b.path : undefined,
    samples: typeof b.samples === "number" ? b.samples : undefined,
  };
}
