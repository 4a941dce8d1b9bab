import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { listeningTcpPorts, waitUntilListening } from "./wait-until-listening.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(host: string): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as { port: number }).port;
}

describe("listeningTcpPorts", () => {
  it("reads listening sockets from /proc/net/tcp and tcp6, and nothing else", () => {
    const tables: Record<string, string> = {
      "/proc/net/tcp": [
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   0: 00000000:0D96 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 1 1 0000000000000000 100 0 0 10 0",
        "   1: 0100007F:14A0 0100007F:D2C4 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1",
      ].join("\n"),
      "/proc/net/tcp6": [
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   0: 00000000000000000000000000000000:14E5 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 3 1 0000000000000000 100 0 0 10 0",
      ].join("\n"),
    };
    expect([...listeningTcpPorts((path) => tables[path]!)].sort()).toEqual([3478, 5349]);
  });

  it("does without a tcp6 table (no IPv6 in the namespace)", () => {
    const table = "header\n   0: 00000000:0D96 00000000:0000 0A 0 0 0 0 0 0 0";
    expect([...listeningTcpPorts((path) => {
      if (path.endsWith("6")) throw new Error("ENOENT");
      return table;
    })]).toEqual([3478]);
  });
});

describe("waitUntilListening", () => {
  it("answers true once every port listens, on IPv4 or IPv6", async () => {
    const ports = [await listen("127.0.0.1"), await listen("::1").catch(() => listen("127.0.0.1"))];
    expect(await waitUntilListening(ports, { timeoutMs: 2_000 })).toBe(true);
  });

  it("answers false after the timeout while one port does not listen", async () => {
    const open = await listen("127.0.0.1");
    const closed = await listen("127.0.0.1");
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const started = Date.now();
    expect(await waitUntilListening([open, closed], { timeoutMs: 300 })).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("answers false at once when the process that should listen is gone", async () => {
    const closed = await listen("127.0.0.1");
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const started = Date.now();
    expect(await waitUntilListening([closed], { timeoutMs: 5_000, running: () => false })).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
