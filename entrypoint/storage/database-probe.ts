import { existsSync } from "node:fs";
import { createRequire } from "node:module";
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
  { pattern: /SSL|TLS|certificate|no encryption/i, reason: "TLS failed (see XMPP_DB_TLS)", transient: false },
  { pattern: /connection refused|ECONNREFUSED/i, reason: "connection refused", transient: true },
  { pattern: /could not translate host name|name or service not known|temporary failure in name resolution|ENOTFOUND|EAI_AGAIN/i, reason: "host name not found", transient: true },
  { pattern: /timeout|timed out|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/i, reason: "timed out", transient: true },
  { pattern: /starting up|shutting down|in recovery|too many clients/i, reason: "not accepting connections yet", transient: true },
  { pattern: /unable to open database file|readonly database|disk I\/O/i, reason: "cannot open the database file", transient: false },
];

export function classifyFailure(detail: string): ConnectionFailure {
  const known = FAILURES.find(({ pattern }) => pattern.test(detail));
  return known ? { reason: known.reason, detail, transient: known.transient } : { reason: "connection failed", detail, transient: true };
}

/**
 * node-postgres in a file of its own in the image (pg-bundle.ts, Dockerfile): not in the
 * entrypoint's bundle, whose startup snapshot every start restores, while only a start with
 * XMPP_STORAGE=postgres ever uses it. Outside the image (tests), the installed package.
 */
export const PG_BUNDLE = "/usr/local/lib/prosody-appliance/pg.cjs";

type Pg = (typeof import("pg"))["default"];

/**
 * node-postgres, loaded on first use. At load it probes for Cloudflare Workers through
 * `navigator.userAgent`, else by touching `Response`, which loads undici and its WebAssembly:
 * the entrypoint runs without (--jitless), so the probe gets a navigator to read while it loads.
 */
async function loadPg(): Promise<Pg> {
  const global = globalThis as { navigator?: unknown };
  const lent = global.navigator === undefined;
  if (lent) Object.defineProperty(global, "navigator", { value: { userAgent: "Node.js" }, configurable: true, writable: true });
  try {
    // A startup snapshot's own require() reaches Node's built-in modules only: createRequire's does files.
    if (existsSync(PG_BUNDLE)) return (createRequire(PG_BUNDLE)(PG_BUNDLE) as { default: Pg }).default;
    return (await import("pg")).default;
  } finally {
    if (lent) delete global.navigator;
  }
}

/**
 * LuaDBI (Debian's 0.7.4) replaces libpq's reason for a failed connection with "no connection
 * to the server", whatever it was. The same login made from here says why: refused, not in
 * DNS, the password, the database, TLS.
 */
async function explainPostgresFailure(sql: SqlConnection, dbiDetail: string): Promise<string> {
  const pg = await loadPg();
  const sslmode = /sslmode=(\S+)/.exec(sql.database)?.[1] ?? "prefer";
  // prefer: libpq falls back to plain TCP; the reason a login fails is the same either way.
  const ssl = sslmode === "require" ? { rejectUnauthorized: false } : sslmode === "verify-full" ? { rejectUnauthorized: true, servername: sql.host } : false;
  const client = new pg.Client({
    host: sql.host,
    port: sql.port,
    user: sql.username,
    password: sql.password,
    database: /dbname=(\S+)/.exec(sql.database)?.[1] ?? sql.database,
    ssl,
    connectionTimeoutMillis: 5_000,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return `${dbiDetail} (yet the same login from the entrypoint works: see the database server's log)`;
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return code && !message.includes(code) ? `${message} (${code})` : message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export type ProbeRunner = (args: readonly string[], connection: string) => Promise<CommandResult>;

/** The probe runs as the prosody user: the SQLite file is created as Prosody's own. */
const runProbe: ProbeRunner = (args, connection) => runAsProsody([STORAGE_PROBE, ...args], connection);

function connectionText(sql: SqlConnection): string {
  return luaValue(sql as unknown as { [key: string]: LuaValue });
}

export type FailureExplainer = (sql: SqlConnection, dbiDetail: string) => Promise<string>;

async function probe(sql: SqlConnection, args: readonly string[], run: ProbeRunner, explain: FailureExplainer = explainPostgresFailure): Promise<string[]> {
  const result = await run(args, connectionText(sql));
  const lines = result.stdout.split("\n").filter((line) => line !== "");
  const error = lines.find((line) => line.startsWith("error "));
  if (error !== undefined) {
    const detail = error.slice("error ".length);
    throw new DatabaseUnreachable(classifyFailure(sql.driver === "PostgreSQL" ? await explain(sql, detail) : detail));
  }
  if (result.exitCode !== 0) throw new Error(`${STORAGE_PROBE} ${args[0]} exited with status ${result.exitCode}: ${result.output.trim().split("\n").slice(-3).join(" / ")}`);
  return lines;
}

/** Connects as Prosody will and reads what the database holds. Throws DatabaseUnreachable. */
export async function databaseState(sql: SqlConnection, run: ProbeRunner = runProbe, explain?: FailureExplainer): Promise<DatabaseState> {
  const lines = await probe(sql, ["check"], run, explain);
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

/** Rows of one host, user and store in Prosody's tables (`user` is "" for a host's own data). */
export interface StoreRows {
  kind: "keyval" | "archive";
  host: string;
  user: string;
  store: string;
  rows: number;
}

/** What Prosody's tables hold, per host, user and store. Throws DatabaseUnreachable. */
export async function storeRows(sql: SqlConnection, run: ProbeRunner = runProbe): Promise<StoreRows[]> {
  const lines = await probe(sql, ["rows"], run);
  return lines.map((line) => {
    const [kind, host = "", user = "", store = "", rows = ""] = line.split("\t");
    if ((kind !== "keyval" && kind !== "archive") || !/^\d+$/.test(rows)) throw new Error(`${STORAGE_PROBE} rows printed an unexpected line: ${line}`);
    return { kind, host, user, store, rows: Number(rows) };
  });
}

/** Whether the database answers a query now; never throws, never waits past the probe's connect timeout. */
export async function databaseAnswers(sql: SqlConnection, run: ProbeRunner = runProbe): Promise<boolean> {
  try {
    return (await probe(sql, ["ping"], run, async (_sql, detail) => detail)).includes("ok");
  } catch {
    return false;
  }
}

/** How long one answer of the database gauge serves further scrapes. */
export const DATABASE_GAUGE_MAX_AGE_MS = 5_000;

/**
 * The metrics' database gauge: one probe at a time, its answer reused for `maxAgeMs`. Scrapes
 * come as often as a scraper (or several) likes; the probe is a process, and while a database
 * hangs it takes up to its connect timeout, so asking per scrape would pile processes up.
 */
export function databaseGauge(
  sql: SqlConnection,
  { run = runProbe, maxAgeMs = DATABASE_GAUGE_MAX_AGE_MS, now = Date.now }: { run?: ProbeRunner; maxAgeMs?: number; now?: () => number } = {},
): () => Promise<boolean> {
  let last: { up: boolean; at: number } | undefined;
  let inFlight: Promise<boolean> | undefined;
  return () => {
    if (last && now() - last.at < maxAgeMs) return Promise.resolve(last.up);
    inFlight ??= databaseAnswers(sql, run).then((up) => {
      last = { up, at: now() };
      inFlight = undefined;
      return up;
    });
    return inFlight;
  };
}
