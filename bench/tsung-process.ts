import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { sleep } from "../test-support/wait-for.js";
import { parseTsungLog, type TsungDump } from "./tsung-log.js";

export interface TsungRun {
  readDumps(): TsungDump[];
  /** The last lines tsung printed (for error messages). */
  outputTail(): string;
  /** Resolves with tsung's exit code when it ends by itself. */
  exited: Promise<number>;
  /** Stops tsung (and the sessions it holds): SIGTERM to its process group, then SIGKILL. */
  stop(): Promise<void>;
}


export function tsungVersion(): string | undefined {
  try {
    return execFileSync("tsung", ["-v"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

/** Installs Debian's tsung when it is missing and this process may (root with apt-get). */
export function ensureTsung(log: (line: string) => void): string | undefined {
  const version = tsungVersion();
  if (version || process.getuid?.() !== 0) return version;
  log("tsung is not installed: apt-get install -y tsung");
  try {
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "tsung"], {
      stdio: "ignore",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      timeout: 300_000,
    });
  } catch {
    return undefined;
  }
  return tsungVersion();
}

const running = new Set<TsungRun>();

/** Stops every tsung this process started and that is still running (for cleanup on exit). */
export async function stopAllTsung(): Promise<void> {
  await Promise.all([...running].map((run) => run.stop()));
}

/**
 * Starts one tsung controller on this host. Everything stays on the loopback interface: node
 * names use 127.0.0.1, epmd listens on 127.0.0.1 only, and the web GUI is off. Statistics are
 * dumped every second instead of every ten.
 */
export function startTsung({ id, configXml, workDir }: { id: string; configXml: string; workDir: string }): TsungRun {
  mkdirSync(workDir, { recursive: true });
  const configPath = join(workDir, "tsung.xml");
  const logRoot = join(workDir, "log");
  writeFileSync(configPath, configXml);
  const output = openSync(join(workDir, "tsung.out"), "w");
  const child: ChildProcess = spawn(
    "bash",
    // As many open files as this process may have (10,000 sessions need 10,000 sockets).
    ["-c", 'ulimit -n "$(ulimit -Hn)" && exec tsung -n -I 127.0.0.1 -i "$1" -f "$2" -l "$3" start', "tsung", id, configPath, logRoot],
    {
      detached: true,
      stdio: ["ignore", output, output],
      env: {
        ...process.env,
        ERL_EPMD_ADDRESS: "127.0.0.1",
        ERL_FLAGS: "-tsung_controller dumpstats_interval 1000",
      },
    },
  );
  closeSync(output);
  const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
  let ended = false;
  void exited.then(() => (ended = true));

  const readDumps = () => {
    if (!existsSync(logRoot)) return [];
    const runs = readdirSync(logRoot).sort();
    const log = runs.length > 0 ? join(logRoot, runs.at(-1)!, "tsung.log") : undefined;
    return log && existsSync(log) ? parseTsungLog(readFileSync(log, "utf8")) : [];
  };

  const run: TsungRun = {
    readDumps,
    outputTail: () => {
      try {
        return readFileSync(join(workDir, "tsung.out"), "utf8").trim().split("\n").slice(-8).join("\n");
      } catch {
        return "";
      }
    },
    exited,
    async stop() {
      if (ended || child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        return;
      }
      const stopped = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!stopped) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
        await exited;
      }
    },
  };
  running.add(run);
  void exited.then(() => running.delete(run));
  return run;
}

/** epmd is started by the first Erlang VM and outlives it; stop it if the bench started it. */
export function epmdPids(): number[] {
  try {
    return execFileSync("pgrep", ["-x", "epmd"], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
