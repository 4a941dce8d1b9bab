export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let threshold: LogLevel = "info";

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

/**
 * One logger for the entrypoint. Lines start with "appliance" so they stand apart from
 * Prosody's own lines in `docker logs`; errors go to stderr.
 */
export function log(level: LogLevel, message: string): void {
  if (ORDER[level] < ORDER[threshold]) return;
  const line = `appliance ${level.padEnd(5)} ${message}\n`;
  (level === "error" || level === "warn" ? process.stderr : process.stdout).write(line);
}

/**
 * No startup step takes more than a few seconds; one that hangs (a mount that never answers)
 * fails the start with its name instead of leaving the container silently stuck.
 */
export const STEP_TIMEOUT_MS = 60_000;

/** Runs one named startup step and logs its duration, so slow steps are visible. */
export async function step<T>(
  name: string,
  run: () => T | Promise<T>,
  describe?: (result: T) => string,
  { timeoutMs = STEP_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<T> {
  // process.hrtime, not performance.now(): the first use of `performance` loads perf_hooks, which
  // the startup snapshot does not hold, and that cost ~5 ms on the way to Prosody.
  const started = process.hrtime.bigint();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the startup step "${name}" did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  const result = await Promise.race([Promise.resolve().then(run), timeout]).finally(() => clearTimeout(timer));
  const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  const detail = describe ? `: ${describe(result)}` : "";
  log("info", `${name}${detail} (${ms} ms)`);
  return result;
}
