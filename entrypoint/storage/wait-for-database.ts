import { ConfigError, UnavailableError } from "../errors.js";
import { log } from "../log.js";
import { sleep } from "../sleep.js";
import { describeSql, type SqlConnection } from "../config/storage-config.js";
import { databaseState, DatabaseUnreachable, type DatabaseState } from "./database-probe.js";

export interface WaitOptions {
  /** XMPP_DB_WAIT. */
  waitMs: number;
  state?: typeof databaseState;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** The settings that decide each refusal. */
function settingsFor(reason: string): string {
  if (reason.startsWith("authentication") || reason.startsWith("no such user")) return "XMPP_DB_USER and XMPP_DB_PASSWORD";
  if (reason === "no such database") return "XMPP_DB_NAME (the database must exist; Prosody creates the tables in it)";
  if (reason.startsWith("TLS")) return "XMPP_DB_TLS";
  return "XMPP_DB_HOST, XMPP_DB_PORT and the database server's log";
}

/** 1, 2, 4, 8, then every 10 s: quick when the database is a moment behind, quiet when it is down. */
export function retryDelay(attempt: number): number {
  return Math.min(1_000 * 2 ** (attempt - 1), 10_000);
}

/**
 * Connects until the database answers, as Prosody will connect: a server that refuses, is not
 * in DNS yet or is still starting is tried again with a growing pause, each try logged, until
 * `waitMs` has passed. A wrong password, a missing database or a TLS failure is not waited
 * for: it ends the start at once with what to fix (ConfigError, exit 78). Giving up after
 * waiting is UnavailableError (exit 69): a restart policy may try again later.
 */
export async function waitForDatabase(sql: SqlConnection, options: WaitOptions): Promise<DatabaseState> {
  const { waitMs, state = databaseState, sleep: pause = sleep, now = Date.now } = options;
  const where = describeSql(sql);
  const deadline = now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await state(sql);
    } catch (error) {
      if (!(error instanceof DatabaseUnreachable)) throw error;
      const { reason, detail, transient } = error.failure;
      if (!transient) throw new ConfigError([`${where} refused the connection: ${reason} (${detail}). Check ${settingsFor(reason)}`]);
      const left = deadline - now();
      if (left <= 0) {
        throw new UnavailableError(`${where} did not answer within ${waitMs / 1000} s (${attempt} tries): ${reason} (${detail}). Start the database, or check XMPP_DB_HOST and XMPP_DB_PORT`);
      }
      const delay = Math.min(retryDelay(attempt), left);
      log("warn", `${where}: ${reason} (${detail}); trying again in ${(delay / 1000).toFixed(delay < 1_000 ? 1 : 0)} s (try ${attempt}, giving up ${Math.ceil(left / 1000)} s from now)`);
      await pause(delay);
    }
  }
}

