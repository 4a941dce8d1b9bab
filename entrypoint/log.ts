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

/** Runs one named startup step and logs its duration, so slow steps are visible. */
export async function step<T>(name: string, run: () => T | Promise<T>, describe?: (result: T) => string): Promise<T> {
  const started = performance.now();
  const result = await run();
  const ms = Math.round(performance.now() - started);
  const detail = describe ? `: ${describe(result)}` : "";
  log("info", `${name}${detail} (${ms} ms)`);
  return result;
}
