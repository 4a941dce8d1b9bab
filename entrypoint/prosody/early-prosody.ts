import { EventEmitter } from "node:events";
import { closeSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { Socket } from "node:net";
import { constants } from "node:os";

/**
 * Set by server/start-appliance, which tini runs first: "START STATUS", two pipes to the early
 * Prosody it started with the container (server/early-prosody.lua): the write end of its
 * standard input, and the read end of its waiter's reports ("pid N", then "exit N").
 */
export const EARLY_PROSODY_ENV = "APPLIANCE_EARLY_PROSODY";

/** Both descriptors close-on-exec: no process started here inherits them. */
export interface EarlyProsody {
  start: number;
  status: number;
}

/** The inherited descriptor `fd` opened again, close-on-exec as Node opens files, and closed. */
function reopen(fd: number, flags: "r" | "w"): number {
  try {
    return openSync(`/proc/self/fd/${fd}`, flags);
  } finally {
    closeSync(fd);
  }
}

/**
 * Takes the early Prosody out of the environment, so that no process started here sees it, and
 * its pipes out of what they would inherit: whoever can write the start line decides which
 * account a process that is still root becomes. Undefined without an early Prosody (the bundle
 * run as a plain script) or with a value that does not name two open descriptors.
 */
export function claimEarlyProsody(env: NodeJS.ProcessEnv = process.env): EarlyProsody | undefined {
  const value = env[EARLY_PROSODY_ENV];
  delete env[EARLY_PROSODY_ENV];
  const match = /^(\d+) (\d+)$/.exec(value ?? "");
  if (!match) return undefined;
  let start: number | undefined;
  try {
    start = reopen(Number(match[1]), "w");
    return { start, status: reopen(Number(match[2]), "r") };
  } catch {
    if (start !== undefined) closeSync(start);
    return undefined;
  }
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

/**
 * The early Prosody once adopted: the part of a ChildProcess the entrypoint uses. Its waiter
 * (server/start-appliance) reports its end: "exit N", with 128 + signal for a signal, as a shell
 * does (Prosody itself never exits above 128). A waiter that ends without a word leaves the
 * status unknown: 255.
 */
export class AdoptedProcess extends EventEmitter {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;

  constructor(
    readonly pid: number,
    status: number,
  ) {
    super();
    const reports = new Socket({ fd: status, readable: true, writable: false });
    let text = "";
    reports.setEncoding("utf8");
    reports.on("data", (chunk: string) => {
      text += chunk;
      const exit = /^exit (\d+)$/m.exec(text);
      if (exit) this.ended(Number(exit[1]));
    });
    reports.on("error", () => undefined);
    reports.on("close", () => this.ended(255));
  }

  private ended(status: number): void {
    if (this.exitCode !== null || this.signalCode !== null) return;
    const signal = status > 128 ? SIGNAL_NAMES.get(status - 128) : undefined;
    if (signal) this.signalCode = signal;
    else this.exitCode = status;
    this.emit("exit", this.exitCode, this.signalCode);
  }

  kill(signal: NodeJS.Signals | number = "SIGTERM"): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** The account and exact groups the early Prosody becomes when this process is root. */
export interface EarlyIdentity {
  name: string;
  uid: number;
  gid: number;
  groups: readonly number[];
}

/**
 * The groups initgroups(name, gid) gives, from the group file: `gid` and every group that lists
 * `name` as a member. initgroups() is how the early Prosody takes them: Lua has no setgroups().
 */
export function initgroupsOf(name: string, gid: number, groupFile = "/etc/group"): number[] {
  const groups = new Set([gid]);
  for (const line of readFileSync(groupFile, "utf8").split("\n")) {
    const [, , id, members] = line.split(":");
    if (members !== undefined && members.split(",").includes(name)) groups.add(Number(id));
  }
  return [...groups].sort((a, b) => a - b);
}

/** The waiter's reports so far: its first line ("pid N") is written as the container starts. */
function firstReports(status: number): string {
  const buffer = Buffer.alloc(256);
  let text = "";
  while (!text.includes("\n")) {
    const read = readSync(status, buffer);
    if (read === 0) break;
    text += buffer.toString("utf8", 0, read);
  }
  return text;
}

export interface HandOverOptions {
  /** Its command line, as start-appliance runs it: anything else is not the early Prosody. */
  command: readonly string[];
  /** As root: whom it becomes. Without root it goes on as it is. */
  identity?: EarlyIdentity;
  groupFile?: string;
}

/**
 * Tells the early Prosody to go on and adopts it; or, when it cannot be Prosody's process just
 * as a spawned one would be, returns why and closes its pipes, which ends it.
 */
export function handOver(early: EarlyProsody, { command, identity, groupFile }: HandOverOptions): AdoptedProcess | string {
  let adopted: AdoptedProcess | undefined;
  try {
    const reports = firstReports(early.status);
    const pid = Number(/^pid (\d+)$/m.exec(reports)?.[1]);
    const exit = /^exit (\d+)$/m.exec(reports);
    if (exit || !pid) return `it has ended${exit ? ` (exit ${exit[1]})` : ""}`;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1).join(" ");
    } catch {
      return `it has ended (pid ${pid})`;
    }
    if (cmdline !== command.join(" ")) return `pid ${pid} runs "${cmdline}", not "${command.join(" ")}"`;
    let line = "start";
    if (identity) {
      const wanted = [...new Set(identity.groups)].sort((a, b) => a - b);
      const given = initgroupsOf(identity.name, identity.gid, groupFile);
      if (given.join(",") !== wanted.join(",")) {
        return `${groupFile ?? "/etc/group"} gives ${identity.name} the groups ${given.join(",")}, not ${wanted.join(",")}`;
      }
      line = `start ${identity.uid} ${identity.gid} ${wanted.join(",")}`;
    }
    try {
      writeSync(early.start, `${line}\n`);
    } catch (error) {
      return `it could not be told to start: ${(error as Error).message}`;
    }
    adopted = new AdoptedProcess(pid, early.status);
    return adopted;
  } finally {
    closeSync(early.start);
    // Adopted: its reports are read from here on. Otherwise nothing more is wanted from them.
    if (!adopted) closeSync(early.status);
  }
}
