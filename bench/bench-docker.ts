import { execFile } from "node:child_process";

/** Every container the bench starts carries this label; leftovers are swept at start and end. */
export const BENCH_LABEL = "prosody-appliance.bench";
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

export async function removeBenchContainers(): Promise<number> {
  const { stdout } = await dockerCli(["ps", "-aq", "--filter", `label=${BENCH_LABEL}=1`]);
  const ids = stdout.split("\n").filter(Boolean);
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
