import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** uid/gid of the image's prosody user (fixed in the Dockerfile). */
export const PROSODY_IDS = { uid: 101, gid: 101 } as const;
/** Prosody 13's default for internal_hashed accounts. */
const SCRAM_ITERATIONS = 10_000;

export const BENCH_PASSWORD = "bench-password";
/**
 * Accounts the Node clients log in to. @xmpp/client's SCRAM-SHA-1 is pure JavaScript and takes
 * ~0.5 s of client CPU per login at 10,000 iterations; none of these logins is timed, so their
 * accounts are stored with fewer iterations. tsung's accounts (PLAIN over TLS, where the server
 * does the PBKDF2 at its stored count) keep Prosody's default, and those logins are timed.
 */
const CLIENT_SCRAM_ITERATIONS = 64;

/** Accounts for tsung: user1 ... userN. */
export const accountName = (index: number) => `user${index}`;
/** Accounts for the Node clients: client1 ... clientN. */
export const clientAccountName = (index: number) => `client${index}`;

/**
 * The account file Prosody's internal_hashed provider writes (SCRAM-SHA-1, hex keys). Logging
 * in costs the server the same PBKDF2 as for an account made with prosodyctl.
 */
export function scramAccountRecord(password: string, salt: string, iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(password, salt, iterations, 20, "sha1");
  const clientKey = createHmac("sha1", salted).update("Client Key").digest();
  const storedKey = createHash("sha1").update(clientKey).digest("hex");
  const serverKey = createHmac("sha1", salted).update("Server Key").digest("hex");
  return [
    "return {",
    `\t["salt"] = "${salt}";`,
    `\t["stored_key"] = "${storedKey}";`,
    `\t["server_key"] = "${serverKey}";`,
    `\t["iteration_count"] = ${iterations};`,
    "};",
    "",
  ].join("\n");
}

/** How Prosody's datamanager names a host's directory: every non-alphanumeric byte as %xx. */
export function storeDirectoryName(host: string): string {
  return host.replace(/[^a-zA-Z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export interface DataDirectory {
  /** Host directory to bind-mount at /var/lib/prosody. */
  path: string;
  dispose(): void;
}

/**
 * A fresh Prosody data directory owned by the prosody user, like the image's own
 * /var/lib/prosody, with `load` tsung accounts and `clients` Node-client accounts (all
 * BENCH_PASSWORD). Written directly: 10,000 `prosodyctl adduser` calls would take an hour.
 */
export function createDataDirectory(domain: string, { load = 0, clients = 0 }: { load?: number; clients?: number }): DataDirectory {
  const path = mkdtempSync(join(tmpdir(), "bench-prosody-data-"));
  const hostDir = join(path, storeDirectoryName(domain));
  const accountsDir = join(hostDir, "accounts");
  mkdirSync(accountsDir, { recursive: true });
  for (const dir of [path, hostDir, accountsDir]) {
    chmodSync(dir, 0o750);
    chownSync(dir, PROSODY_IDS.uid, PROSODY_IDS.gid);
  }
  const write = (name: string, record: string) => {
    const file = join(accountsDir, `${name}.dat`);
    writeFileSync(file, record, { mode: 0o640 });
    chownSync(file, PROSODY_IDS.uid, PROSODY_IDS.gid);
  };
  const loadRecord = scramAccountRecord(BENCH_PASSWORD, "bench-salt-4f1c2a");
  for (let index = 1; index <= load; index++) write(accountName(index), loadRecord);
  const clientRecord = scramAccountRecord(BENCH_PASSWORD, "bench-salt-7be09d", CLIENT_SCRAM_ITERATIONS);
  for (let index = 1; index <= clients; index++) write(clientAccountName(index), clientRecord);
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** `username,password` lines for tsung's setdynvars, accounts first..last. */
export function accountsCsv(first: number, last: number): string {
  const lines: string[] = [];
  for (let index = first; index <= last; index++) lines.push(`${accountName(index)},${BENCH_PASSWORD}`);
  return `${lines.join("\n")}\n`;
}
