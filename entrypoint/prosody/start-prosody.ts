import { spawn } from "node:child_process";
import type { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { PATHS, PROSODY_USER } from "../paths.js";
import { log } from "../log.js";
import { runsAsRoot, switchUser } from "../identity.js";
import { handOver, type EarlyProsody } from "./early-prosody.js";

/** What the entrypoint uses of Prosody's process: a ChildProcess, or the early Prosody adopted. */
export interface ProsodyProcess extends EventEmitter {
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals | number): boolean;
}

export interface RunningProsody {
  child: ProsodyProcess;
  /** Whether it is the early Prosody, started with the container (server/early-prosody.lua). */
  early: boolean;
  /** Asks Prosody to re-read its configuration and certificates (SIGHUP). */
  reload(): void;
  /** Resolves with the exit code the container should have: Prosody's, or 128 + signal. */
  exited: Promise<number>;
}

export interface StartOptions {
  /** Extra supplementary groups (e.g. the certificate group's gid). */
  extraGroups?: number[];
  command?: string[];
  /** The early Prosody, if start-appliance started one: used when it can take Prosody's identity. */
  early?: EarlyProsody;
}

/** The Prosody this process started, while it runs: stopped cleanly if the entrypoint fails. */
let running: ProsodyProcess | undefined;

/** Time Prosody gets to stop after SIGTERM before it is killed: under `docker stop`'s 10 s. */
export const STOP_GRACE_MS = 5_000;

/**
 * Stops the running Prosody, if any: SIGTERM, then SIGKILL after `graceMs`. Called when the
 * entrypoint fails, so that Prosody closes its sessions and storage instead of being killed
 * with the container.
 */
export async function stopProsody(graceMs = STOP_GRACE_MS): Promise<void> {
  const child = running;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  log("warn", `stopping Prosody (pid ${child.pid}): the entrypoint cannot go on`);
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), graceMs)));
  if ((await Promise.race([exited, late])) === "late") {
    log("warn", `Prosody did not stop within ${graceMs / 1000} s: killing it`);
    child.kill("SIGKILL");
    await exited;
  }
  clearTimeout(timer);
}

// SIGHUP is not forwarded as is: the entrypoint re-checks certificates first, then reloads.
const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;
const HELD_UNTIL_HANDLED = new Set<NodeJS.Signals>(["SIGUSR1", "SIGUSR2"]);

/** The command name (/proc/PID/status "Name:") of this process, which a child keeps until it execs. */
let ownName: string | undefined;

/** Signals 1-31 but SIGKILL and SIGSTOP, which cannot be blocked: a process blocking all of them. */
const EVERY_BLOCKABLE = 0x7ffbfeffn;

/**
 * Whether the process takes `signal` itself: caught by a handler (SigCgt) or blocked (SigBlk),
 * as Prosody does to read signals from a signalfd, in /proc/PID/status. A blocked signal counts
 * only once the child has exec'd, and only while the process does not block every signal:
 * between fork and exec, libuv's child (still named as this process) blocks them all, and so
 * does a program around a fork of its own (dash, posix_spawn) for a moment. A signal sent then
 * is delivered with its default action, which ends the process, as soon as they are unblocked.
 */
export function handles(pid: number, signal: NodeJS.Signals): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    ownName ??= statusField(readFileSync("/proc/self/status", "utf8"), "Name");
    const masks = (statusField(status, "Name") === ownName ? ["SigCgt"] : ["SigCgt", "SigBlk"]).map((field) => {
      const mask = statusField(status, field);
      return mask !== undefined && /^[0-9a-f]+$/i.test(mask) ? BigInt(`0x${mask}`) : 0n;
    });
    const [caught, blocked = 0n] = masks;
    const bit = 1n << BigInt(constants.signals[signal] - 1);
    return (caught! & bit) !== 0n || ((blocked & EVERY_BLOCKABLE) !== EVERY_BLOCKABLE && (blocked & bit) !== 0n);
  } catch {
    return false;
  }
}

function statusField(status: string, field: string): string | undefined {
  return new RegExp(`^${field}:\\s*(.*?)\\s*$`, "m").exec(status)?.[1];
}

const HANDLER_WAIT_MS = 30_000;

/**
 * A signal Prosody does not handle yet (it is still starting) would end it, as SIGHUP's default
 * does: it is sent once Prosody has installed its handler, polled every 50 ms.
 */
function sendOnceHandled(child: ProsodyProcess, signal: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  if (handles(pid, signal)) {
    child.kill(signal);
    return;
  }
  log("debug", `Prosody does not handle ${signal} yet (still starting): sending it once it does`);
  const startedAt = Date.now();
  const poll = setInterval(() => {
    if (child.exitCode !== null || child.signalCode !== null) return clearInterval(poll);
    if (!handles(pid, signal) && Date.now() - startedAt < HANDLER_WAIT_MS) return;
    clearInterval(poll);
    child.kill(signal);
  }, 50);
}

const PROSODY_ARGS = ["/usr/bin/prosody", "-F", "--config", PATHS.prosodyConfig];
const LOAD_BYTECODE = ["lua5.4", "-e", `dofile "${PATHS.bytecodeLoader}"`];

/** `prosody -F`, run by lua5.4 after the bytecode loader (server/bytecode/load-bytecode.lua). */
function prosodyCommand(): string[] {
  return [...LOAD_BYTECODE, ...PROSODY_ARGS];
}

/** The early Prosody's command line, as server/start-appliance runs it: the same, waiting first. */
function earlyProsodyCommand(): string[] {
  return [...LOAD_BYTECODE, PATHS.earlyProsody, ...PROSODY_ARGS];
}

/**
 * The early Prosody, told to go on as the prosody account with `groups`; undefined (and why,
 * logged) when it cannot be Prosody's process just as a spawned one would be.
 */
function takeEarly(early: EarlyProsody, groups: number[]): ProsodyProcess | undefined {
  const identity = runsAsRoot() ? { name: PROSODY_USER.name, uid: PROSODY_USER.uid, gid: PROSODY_USER.gid, groups } : undefined;
  const taken = handOver(early, { command: earlyProsodyCommand(), ...(identity ? { identity } : {}) });
  if (typeof taken !== "string") return taken;
  log("info", `Prosody's early start not used, starting it now: ${taken}`);
  return undefined;
}

/**
 * Starts Prosody in the foreground as the unprivileged prosody user (or, without root, as this
 * process): the early Prosody, started with the container, when it can be told to; otherwise a
 * new one. setpriv sets the supplementary groups explicitly: Node's own uid/gid spawn options
 * would drop them.
 */
export function startProsody(options: StartOptions = {}): RunningProsody {
  const groups = [PROSODY_USER.gid, ...(options.extraGroups ?? [])];
  const command = options.command ?? prosodyCommand();
  // Prosody 13 ignores its own umask option; files it creates inherit ours (no world access).
  process.umask(0o027);
  const early = options.early && takeEarly(options.early, groups);
  const child =
    early ??
    spawn(
      "/usr/bin/setpriv",
      [
        ...switchUser(PROSODY_USER, groups),
        // No setuid binary or file capability can give Prosody (or what it runs) more than uid 101 has.
        "--no-new-privs",
        "--reset-env",
        "--",
        ...command,
      ],
      // --reset-env keeps only TERM: Node copies whatever environment it is given, in its interpreter.
      { stdio: "inherit", env: process.env.TERM === undefined ? {} : { TERM: process.env.TERM } },
    );
  running = child;

  const forward = (signal: NodeJS.Signals) => {
    log("debug", `forwarding ${signal} to Prosody`);
    // Stopping signals go at once: their default action, ending a Prosody still starting, is what
    // was asked. Prosody's own signals (SIGUSR1, SIGUSR2) would end it just the same, so they
    // wait for its handler.
    if (HELD_UNTIL_HANDLED.has(signal)) sendOnceHandled(child, signal);
    else child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);

  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code: number | null, signal: NodeJS.Signals | null) => {
      if (running === child) running = undefined;
      for (const s of FORWARDED_SIGNALS) process.off(s, forward);
      if (signal) {
        resolve(128 + (constants.signals[signal] ?? 0));
      } else {
        resolve(code ?? 1);
      }
    });
  });
  return { child, early: early !== undefined, exited, reload: () => sendOnceHandled(child, "SIGHUP") };
}
