import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sleep } from "../sleep.js";
import { superviseTurnServer, type TurnServer } from "./start-turn-server.js";

const self = { name: "test", uid: process.getuid!(), gid: process.getgid!() };
const backoff = { firstMs: 50, maxMs: 200, stableMs: 10_000 };
let lines: string[];
let servers: TurnServer[];

beforeEach(() => {
  lines = [];
  servers = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation(((chunk: string) => {
      lines.push(String(chunk).trimEnd());
      return true;
    }) as typeof stream.write);
  }
});
afterEach(async () => {
  for (const server of servers) await server.stop();
  vi.restoreAllMocks();
});

function supervise(script: string): TurnServer {
  const server = superviseTurnServer({ account: self, config: "/unused", command: ["sh", "-c", script], backoff });
  servers.push(server);
  return server;
}

describe("superviseTurnServer", () => {
  it("should prefix the server's lines with turn, without coturn's uptime counter", async () => {
    supervise("echo '0: : WARNING: cannot find certificate file: /x.pem'; echo; echo 'oops' >&2; exec sleep 30");
    await vi.waitFor(() => expect(lines).toEqual(expect.arrayContaining(["turn WARNING: cannot find certificate file: /x.pem", "turn oops"])), { timeout: 5_000 });
    expect(lines.filter((l) => l.startsWith("turn"))).toHaveLength(2);
  });

  it("should leave out coturn's start banner, which says nothing a user can act on, and keep its version and warnings", async () => {
    const banner = [
      "Black listing: 10.0.0.0-10.255.255.255",
      "RFC 3489/5389/5766/5780/6062/6156 STUN/TURN Server",
      "==== Show him the instruments, Practical Frost: ====",
      "TLS supported",
      "Third-party authorization (oAuth) supported",
      "SQLite supported, default database location is /var/lib/turn/turndb",
      "MongoDB is not supported",
      "=====================================================",
      "TLS1.2: Certificate file found: /dev/shm/prosody-appliance-turn/certificate.pem",
      "===========Discovering relay addresses: =============",
      "Relay address to use: 172.17.0.8",
      "Total: 1 relay addresses discovered",
      "IO method (general relay thread): epoll (with changelist)",
      "  relay 172.17.0.8 initialization done",
      "turn server id=1 created",
      "SQLite DB connection success: /var/lib/turn/turndb",
    ];
    const script = ["Version Coturn-4.6.1", ...banner, "WARNING: cannot bind to 0.0.0.0:3478"].map((line) => `echo '0: : ${line}'`).join("; ");
    supervise(`${script}; exec sleep 30`);
    await vi.waitFor(() => expect(lines).toContain("turn WARNING: cannot bind to 0.0.0.0:3478"), { timeout: 5_000 });
    expect(lines.filter((l) => l.startsWith("turn"))).toEqual(["turn Version Coturn-4.6.1", "turn WARNING: cannot bind to 0.0.0.0:3478"]);
  });

  it("should restart a server that dies, with a growing delay, and say so", async () => {
    supervise("exit 3");
    await vi.waitFor(() => expect(lines.filter((l) => l.includes("TURN server exited"))).toHaveLength(3), { timeout: 5_000 });
    expect(lines.filter((l) => l.includes("TURN server exited"))).toEqual([
      "appliance error TURN server exited (status 3); Prosody keeps running; restarting it in 0.05 s",
      "appliance error TURN server exited (status 3); Prosody keeps running; restarting it in 0.1 s",
      "appliance error TURN server exited (status 3); Prosody keeps running; restarting it in 0.2 s",
    ]);
  });

  it("should stop the server for good, with no restart after it", async () => {
    const server = supervise("exec sleep 30");
    await vi.waitFor(() => expect(server.pid()).toBeGreaterThan(0));
    const pid = server.pid()!;
    await server.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    await sleep(backoff.firstMs * 3);
    expect(server.pid()).toBeUndefined();
    expect(lines.filter((l) => l.includes("TURN server exited"))).toEqual([]);
  });

  it("should pass SIGUSR2 to the running server to reload its certificate, not restart it", async () => {
    const server = supervise("trap 'echo reloaded' USR2; echo ready; while :; do sleep 0.05; done");
    await vi.waitFor(() => expect(lines).toContain("turn ready"), { timeout: 5_000 });
    const pid = server.pid();
    server.reloadCertificate();
    await vi.waitFor(() => expect(lines).toContain("turn reloaded"), { timeout: 5_000 });
    expect(server.pid()).toBe(pid);
  });
});
