import { luaValue, type LuaValue } from "../config/lua.js";
import type { SqlConnection } from "../config/storage-config.js";
import { runAsProsody, type CommandResult } from "../run-as-prosody.js";

export const STORAGE_PROBE = "/usr/local/bin/appliance-storage-probe";

/** What the database holds, as far as starting and migrating care. */
export interface DatabaseState {
  /** Rows in Prosody's tables (0 when they do not exist yet). */
  rows: number;
  /** Migrations the appliance recorded in the database, oldest first. */
  migrations: Array<{ id: string; finished: boolean }>;
}

/** Why a connection failed, in the words a user searches for, and whether waiting can help. */
export interface ConnectionFailure {
  reason: string;
  /** The driver's own message, one line. */
  detail: string;
  /** The server may still be starting, or its name not in DNS yet: try again. */
  transient: boolean;
}

export class DatabaseUnreachable extends Error {
  constructor(readonly failure: ConnectionFailure) {
    super(`${failure.reason}: ${failure.detail}`);
    this.name = "DatabaseUnreachable";
  }
}

const FAILURES: Array<{ pattern: RegExp; reason: string; transient: boolean }> = [
  { pattern: /password authentication failed|no password supplied|authentication failed/i, reason: "authentication failed (user or password wrong)", transient: false },
  { pattern: /database "[^"]*" does not exist/i, reason: "no such database", transient: false },
  { pattern: /role "[^"]*" does not exist/i, reason: "no such user (role)", transient: false },
  { pattern: /SSL|certificate/i, reason: "TLS failed (see XMPP_DB_TLS)", transient: false },
  { pattern: /connection refused/i, reason: "connection refused", transient: true },
  { pattern: /could not translate host name|name or service not known|temporary failure in name resolution/i, reason: "host name not found", transient: true },
  { pattern: /timeout|timed out/i, reason: "timed out", transient: true },
  { pattern: /starting up|shutting down|in recovery|too many clients/i, reason: "not accepting connections yet", transient: true },
  { pattern: /unable to open database file|readonly database|disk I\/O/i, reason: "cannot open the database file", transient: false },
];

export function classifyFailure(detail: string): ConnectionFailure {
  const known = FAILURES.find(({ pattern }) => pattern.test(detail));
  return known ? { reason: known.reason, detail, transient: known.transient } : { reason: "connection failed", detail, transient: true };
}

export type ProbeRunner = (args: readonly string[], connection: string) => Promise<CommandResult>;

/** The probe runs as the prosody user: the SQLite file is created as Prosody's own. */
const runProbe: ProbeRunner = (args, connection) => runAsProsody([STORAGE_PROBE, ...args], connection);

function connectionText(sql: SqlConnection): string {
  return luaValue(sql as unknown as { [key: string]: LuaValue });
}

async function probe(sql: SqlConnection, args: readonly string[], run: ProbeRunner): Promise<string[]> {
  const result = await run(args, connectionText(sql));
  const lines = result.stdout.split("\n").filter((line) => line !== "");
  const error = lines.find((line) => line.startsWith("error "));
  if (error !== undefined) throw new DatabaseUnreachable(classifyFailure(error.slice("error ".length)));
  if (result.exitCode !== 0) throw new Error(`${STORAGE_PROBE} ${args[0]} exited with status ${result.exitCode}: ${result.output.trim().split("\n").slice(-3).join(" / ")}`);
  return lines;
}

/** Connects as Prosody will and reads what the database holds. Throws DatabaseUnreachable. */
export async function databaseState(sql: SqlConnection, run: ProbeRunner = runProbe): Promise<DatabaseState> {
  const lines = await probe(sql, ["check"], run);
  const rows = Number(/^rows (\d+)$/m.exec(lines.join("\n"))?.[1] ?? Number.NaN);
  if (!Number.isInteger(rows)) throw new Error(`${STORAGE_PROBE} check printed no row count: ${lines.join(" / ")}`);
  const migrations = lines.flatMap((line) => {
    const match = /^migration (\S+) (finished|started)$/.exec(line);
    return match ? [{ id: match[1]!, finished: match[2] === "finished" }] : [];
  });
  return { rows, migrations };
}

/** Records in the database that this volume's migration `id` started or finished. */
export async function recordMigration(sql: SqlConnection, phase: "begin" | "finish", id: string, source: string, run: ProbeRunner = runProbe): Promise<void> {
  await probe(sql, phase === "begin" ? ["begin", id, source] : ["finish", id], run);
}
