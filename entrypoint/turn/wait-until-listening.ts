import { readFileSync } from "node:fs";
import { sleep } from "../sleep.js";

const LISTEN = "0A";

/** TCP ports with a socket in LISTEN state in this network namespace, from /proc/net/tcp and tcp6. */
export function listeningTcpPorts(read: (path: string) => string = (path) => readFileSync(path, "utf8")): Set<number> {
  const ports = new Set<number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = read(table);
    } catch {
      continue; // no IPv6 in this namespace: no tcp6 table
    }
    for (const line of text.split("\n").slice(1)) {
      // "  0: 00000000:14E5 00000000:0000 0A ...": local address:port (hex), remote, state
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== LISTEN || local === undefined) continue;
      const port = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
      if (Number.isInteger(port)) ports.add(port);
    }
  }
  return ports;
}

export interface ListeningWait {
  timeoutMs?: number;
  intervalMs?: number;
  /** False once the process that should listen is gone: no point waiting then. */
  running?: () => boolean;
}

/**
 * Waits until every one of `ports` listens (TCP), polling /proc: true then, false if `timeoutMs`
 * passes or `running()` turns false first.
 */
export async function waitUntilListening(ports: readonly number[], { timeoutMs = 10_000, intervalMs = 10, running = () => true }: ListeningWait = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listening = listeningTcpPorts();
    if (ports.every((port) => listening.has(port))) return true;
    if (!running() || Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}
