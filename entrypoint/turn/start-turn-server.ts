import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { log } from "../log.js";
import { switchUser } from "../identity.js";
import type { SystemAccount } from "./system-account.js";

/** Restart delays after an unexpected exit: doubling from the first to the last. */
export const RESTART_BACKOFF = { firstMs: 1_000, maxMs: 30_000, stableMs: 30_000 } as const;

/** How long `stop()` waits for the TURN server to exit on SIGTERM before killing it. */
const STOP_GRACE_MS = 5_000;

export interface TurnServer {
  /** The running coturn's pid; undefined while it is restarting. */
  pid(): number | undefined;
  /** Asks coturn to re-read its TLS certificate (SIGUSR2); connections and allocations stay. */
  reloadCertificate(): void;
  /** Stops coturn and no longer restarts it. */
  stop(): Promise<void>;
}

export interface TurnServerOptions {
  account: SystemAccount;
  config: string;
  command?: string[];
  backoff?: { firstMs: number; maxMs: number; stableMs: number };
}

/** coturn prefixes each line with its uptime in seconds ("12: : "); the log has its own order. */
function tidy(line: string): string {
  return line.replace(/^\d+: : ?/, "");
}

/**
 * What coturn prints at every start that a user cannot act on (its version line stays): its
 * banner and build features,
 * the addresses and files it found (the entrypoint's "start TURN" line says what counts), thread
 * setup, and its probe for SCTP, which containers do not have. Warnings and errors still pass.
 */
const NOISE = [
  /^socket: Protocol not supported$/,
  /^Black listing: /,
  /^RFC 3489\/5389\/5766\/5780\/6062\/6156 STUN\/TURN Server$/,
  /^Max number of open files\/sockets allowed for this process: /,
  /^Due to the open files\/sockets limitation,$/,
  /^max supported number of TURN Sessions possible is: /,
  /^=+[^=]*=+$/,
  /^[A-Za-z0-9 ./()-]+ (is not )?supported(, default database location is .*)?$/,
  /^OpenSSL compile-time version: /,
  /^Default Net Engine version: /,
  /^Domain name:/,
  /^Default realm: /,
  /^(SSL23|TLS1\.[0-3]|DTLS1\.[0-2]): (Certificate|Private key) file found: /,
  /^TLS cipher suite: /,
  /^NO EXPLICIT (LISTENER|RELAY) ADDRESS\(ES\) ARE CONFIGURED$/,
  /^(Listener|Relay) address to use: /,
  /^Total: \d+ /,
  /^pid file created: /,
  /^IO method \(/,
  /^Wait for relay ports initialization\.\.\.$/,
  /^relay \S+ initialization( done|\.\.\.)$/,
  /^Relay ports initialization done$/,
  /^turn server id=\d+ created$/,
  /^Total General servers: \d+$/,
  /^SQLite DB connection success: /,
];

function pipeLines(child: ChildProcess): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
      const text = tidy(line).trimEnd();
      if (text.trim() !== "" && !NOISE.some((noise) => noise.test(text.trim()))) process.stdout.write(`turn ${text}\n`);
    });
  }
}

/**
 * Starts coturn as its own unprivileged account with no-new-privs, its lines prefixed "turn",
 * and keeps it running: an unexpected exit is logged and followed by a restart after a delay
 * that doubles up to 30 s (reset once it has run 30 s). Prosody is not affected either way.
 */
export function superviseTurnServer(options: TurnServerOptions): TurnServer {
  const backoff = options.backoff ?? RESTART_BACKOFF;
  const command = options.command ?? ["turnserver", "-c", options.config];
  let child: ChildProcess | undefined;
  let stopping = false;
  let delayMs = backoff.firstMs;
  let restartTimer: NodeJS.Timeout | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = () => {
    const startedAt = Date.now();
    const running = spawn(
      "setpriv",
      [
        ...switchUser(options.account, [options.account.gid]),
        "--no-new-privs",
        "--reset-env",
        "--",
        ...command,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = running;
    pipeLines(running);
    exited = new Promise<void>((resolve) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        child = undefined;
        resolve();
        if (stopping) return;
        if (Date.now() - startedAt >= backoff.stableMs) delayMs = backoff.firstMs;
        log("error", `TURN server exited (${signal ? `signal ${signal}` : `status ${code}`}); Prosody keeps running; restarting it in ${delayMs / 1000} s`);
        restartTimer = setTimeout(start, delayMs);
        delayMs = Math.min(delayMs * 2, backoff.maxMs);
      };
      running.once("exit", onExit);
      running.once("error", (error) => {
        log("error", `TURN server could not be started: ${error.message}`);
        onExit(null, null);
      });
    });
  };

  const stop = async () => {
    stopping = true;
    clearTimeout(restartTimer);
    const running = child;
    if (!running) return;
    running.kill("SIGTERM");
    const killer = setTimeout(() => running.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(killer);
  };
  // tini hands `docker stop`'s SIGTERM to the entrypoint only: pass it on (Prosody gets its own).
  for (const signal of ["SIGTERM", "SIGINT", "SIGQUIT"] as const) process.once(signal, () => void stop());

  start();
  return {
    pid: () => child?.pid,
    reloadCertificate: () => {
      if (child) child.kill("SIGUSR2");
    },
    stop,
  };
}
