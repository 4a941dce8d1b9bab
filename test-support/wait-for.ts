import { sleep } from "../entrypoint/sleep.js";

export interface WaitForOptions {
  /** Total time allowed, including the time each attempt takes. Default 10 000 ms. */
  timeoutMs?: number;
  /** Pause between attempts. Default 100 ms. */
  intervalMs?: number;
}

export type Truthy<T> = Exclude<T, false | 0 | "" | null | undefined>;

export class WaitForTimeoutError extends Error {
  override name = "WaitForTimeoutError";
}

/**
 * Polls `probe` until it returns a truthy value, and returns that value. A probe that throws
 * counts as "not yet"; its last error is quoted if the wait times out, so a failing test says
 * what it was waiting for, for how long, and what it saw instead.
 */
export async function waitFor<T>(
  description: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 100 }: WaitForOptions = {},
): Promise<Truthy<T>> {
  const startedAt = Date.now();
  const deadline = startedAt + timeoutMs;
  let attempts = 0;
  let lastOutcome = "no attempt finished";

  while (true) {
    attempts += 1;
    const remainingMs = deadline - Date.now();
    try {
      // An attempt that hangs (e.g. a TLS handshake to a stuck port) must not outlive the wait.
      const value = await withinMs(Promise.resolve().then(probe), remainingMs);
      if (value) return value as Truthy<T>;
      lastOutcome = `last result: ${describeValue(value)}`;
    } catch (error) {
      lastOutcome =
        error instanceof AttemptTimedOut
          ? "last attempt still running"
          : `last error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs);
  }

  const elapsedMs = Date.now() - startedAt;
  throw new WaitForTimeoutError(
    `Timed out after ${elapsedMs} ms (limit ${timeoutMs} ms, ${attempts} attempts) waiting for ${description}; ${lastOutcome}`,
  );
}

export { sleep };

class AttemptTimedOut extends Error {}

function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AttemptTimedOut()), Math.max(ms, 0));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
