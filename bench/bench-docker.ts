import { execFile } from "node:child_process";

/**
 * Every container and network the bench starts carries this label, its value the run's id (its
 * process id): a run removes its own at the end, and at its start what a run that is gone left.
 */
export const BENCH_LABEL = "prosody-appliance.bench";
export const BENCH_RUN = String(process.pid);
/** The bench's own tag, so a rebuild of :latest while it runs changes nothing. */
export const BENCH_IMAGE = process.env.BENCH_IMAGE ?? "prosody-appliance:bench";

export interface CliResult {
  stdout: string;
  stderr: string;
}

/** Runs the docker CLI; rejects with its stderr on a non-zero exit. */
export function dockerCli(args: readonly string[], { timeoutMs = 120_000 } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile("docker", args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`docker ${args.join(" ")} failed: ${stderr.trim() || error.message}`, { cause: error }));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/** Whether a process with this id runs on this machine (the bench and the engine share one). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether a labelled container is this run's to remove: `own` removes this run's; `leftovers`
 * those of runs that are gone (or from before runs were told apart). Another live run's stay.
 */
export function isBenchContainerToRemove(run: string, which: "own" | "leftovers", alive: (pid: number) => boolean = processAlive): boolean {
  if (which === "own") return run === BENCH_RUN;
  if (run === BENCH_RUN) return false;
  return !/^[1-9]\d*$/.test(run) || run === "1" || !alive(Number(run));
}

export async function removeBenchContainers(which: "own" | "leftovers"): Promise<number> {
  const { stdout } = await dockerCli(["ps", "-a", "--filter", `label=${BENCH_LABEL}`, "--format", `{{.ID}} {{.Label "${BENCH_LABEL}"}}`]);
  const ids = stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([id, run]) => id && isBenchContainerToRemove(run ?? "", which))
    .map(([id]) => id!);
  if (ids.length > 0) await dockerCli(["rm", "-f", "-v", ...ids]).catch(() => undefined);
  return ids.length;
}


export interface LogLine {
  /** Unix milliseconds, as Docker stamped the line. */
  at: number;
  text: string;
}

/** `2026-11-24T21:26:44.123456789Z text` -> { at, text } (nanoseconds cut to milliseconds). */
export function parseTimestampedLine(line: string): LogLine | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d) (.*)$/.exec(line);
  if (!match) return undefined;
  const fraction = (match[2] ?? ".0").slice(0, 4).padEnd(4, "0");
  const at = Date.parse(`${match[1]}${fraction}${match[3]}`);
  return Number.isNaN(at) ? undefined : { at, text: match[4]! };
}

/** The container's output (stdout and stderr) since a moment, with Docker's timestamps. */
export async function logLinesSince(container: string, sinceMs: number): Promise<LogLine[]> {
  const since = (sinceMs / 1000).toFixed(3);
  const { stdout, stderr } = await dockerCli(["logs", "--timestamps", "--since", since, container]);
  return `${stdout}\n${stderr}`
    .split("\n")
    .map(parseTimestampedLine)
    .filter((line): line is LogLine => line !== undefined);
}
