import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { log } from "../log.js";
import { PATHS, PROSODY_USER } from "../paths.js";
import { runAsProsody, type CommandResult } from "../run-as-prosody.js";
import { describeSql, renderMigratorConfig, type SqlConnection } from "../config/storage-config.js";
import { writeFileAtomic } from "../config/write-config.js";
import { recordMigration, type DatabaseState } from "./database-probe.js";
import { findInternalStores, type InternalStore } from "./internal-stores.js";

export interface MigrationOptions {
  sql: SqlConnection;
  /** What the database held when the start connected (waitForDatabase). */
  state: DatabaseState;
  dataDir?: string;
  /** The done marker; `<marker>.pending` while a migration is under way. */
  markerPath?: string;
  /** Where the migrator's config (with the password) is written for the run. */
  configPath?: string;
  runMigrator?: (configPath: string) => Promise<CommandResult>;
  record?: typeof recordMigration;
}

interface Marker {
  id: string;
  to: string;
}

function readMarker(path: string): Marker | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1]?.trim() ?? "";
  return { id: field("id"), to: field("to") };
}

function writeMarker(path: string, lines: string[]): void {
  const header = "# Written by the prosody-appliance entrypoint: the migration of this volume's files (kept as they were) to SQL.\n";
  writeFileAtomic(path, header + lines.map((line) => `${line}\n`).join(""), 0o640, PROSODY_USER.gid);
}

function countsOf(hosts: ReadonlyMap<string, InternalStore[]>): string[] {
  return [...hosts].map(([host, stores]) => `${host}: ${stores.map((s) => `${s.migratorName} ${s.records}`).join(", ")}`);
}

/** prosody-migrator as the prosody user, so what it writes (a SQLite file) is Prosody's. */
export function runProsodyMigrator(configPath: string): Promise<CommandResult> {
  return runAsProsody(["prosody-migrator", "--config", configPath, "input", "output"]);
}

/** The refusal: a database with data this volume did not write is never written over. */
function foreignData(where: string, rows: number, markerPath: string): ConfigError {
  return new ConfigError([
    `XMPP_STORAGE: ${where} already holds ${rows} rows that were not migrated from this volume, and this volume has data in Prosody's files: ` +
      `not migrating (the migrator would overwrite what is there). Point XMPP_DB_NAME (or XMPP_STORAGE) at an empty database to migrate the files; ` +
      `or, to use the database as it is and leave the files unused, create the file ${markerPath} in the volume`,
  ]);
}

/**
 * Moves the data in Prosody's files in the volume into the SQL database, once. The files stay
 * as they are. Exactly once: a done marker in the volume (`storage-migrated`) and a row in the
 * database's `appliance_migration` table record it; a `.pending` marker with the same id lets
 * a migration cut short (crash, stop) run again into the database it had started to fill. A
 * database holding data of its own is refused, never overwritten.
 */
export async function migrateToSql(options: MigrationOptions): Promise<string> {
  const { sql, state, dataDir = PATHS.dataDir, markerPath = PATHS.storageMigrated, configPath = join(PATHS.generatedDir, "migrator.cfg.lua") } = options;
  const { runMigrator = runProsodyMigrator, record = recordMigration } = options;
  const where = describeSql(sql);
  const done = readMarker(markerPath);
  if (done) {
    if (done.to !== "" && done.to !== where) {
      log("warn", `this volume's files were migrated to ${done.to} (${markerPath}), not to ${where}: nothing is migrated again; move the data between the databases yourself if you need it`);
    }
    return `done before (${markerPath}); the files are kept as they were then`;
  }
  const hosts = findInternalStores(dataDir);
  if (hosts.size === 0) return `no data in Prosody's files in ${dataDir}: nothing to migrate`;

  const pendingPath = `${markerPath}.pending`;
  const pending = readMarker(pendingPath);
  const resumable = pending !== undefined && pending.to === where && state.migrations.some((m) => m.id === pending.id);
  if (state.rows > 0 && !resumable) throw foreignData(where, state.rows, markerPath);
  if (resumable) log("warn", `the migration to ${where} started at an earlier start did not finish: running it again (what it wrote is written over)`);

  const id = resumable ? pending.id : randomUUID();
  const started = new Date().toISOString();
  writeMarker(pendingPath, [`id=${id}`, `to=${where}`, `started=${started}`]);
  await record(sql, "begin", id, `internal ${dataDir}`);
  log("info", `migrating Prosody's files in ${dataDir} to ${where}: ${[...hosts.values()].flat().length} stores of ${hosts.size} hosts (prosody-migrator)`);
  const migratorConfig = renderMigratorConfig({ type: "internal", path: dataDir }, { type: "sql", sql }, new Map([...hosts].map(([host, stores]) => [host, stores.map((s) => s.migratorName)])));
  writeFileAtomic(configPath, migratorConfig, 0o640, PROSODY_USER.gid);
  let result: CommandResult;
  try {
    result = await runMigrator(configPath);
  } finally {
    rmSync(configPath, { force: true });
  }
  // The migrator logs each store and user it copies: debug only, its errors always.
  for (const line of result.output.split("\n").filter((l) => l.trim() !== "")) log(/error|fail|traceback/i.test(line) ? "error" : "debug", `prosody-migrator: ${line.trim()}`);
  if (result.exitCode !== 0 || !/^Done!$/m.test(result.output)) {
    throw new Error(`prosody-migrator failed (exit ${result.exitCode}) migrating to ${where}; the files are untouched and the migration runs again at the next start. Its last lines: ${result.output.trim().split("\n").slice(-5).join(" / ")}`);
  }
  await record(sql, "finish", id, "");
  for (const [host, stores] of hosts) {
    for (const store of stores) log("info", `migrated ${host} ${store.migratorName}: ${store.records} ${store.kind === "archive" ? "items" : "records"}`);
  }
  writeMarker(markerPath, [`id=${id}`, `to=${where}`, `started=${started}`, `finished=${new Date().toISOString()}`, ...countsOf(hosts).map((line) => `migrated ${line}`)]);
  rmSync(pendingPath, { force: true });
  return `${[...hosts.values()].flat().reduce((n, s) => n + s.records, 0)} records of ${hosts.size} hosts migrated to ${where}; the files are kept, ${markerPath} records it`;
}

/** XMPP_STORAGE=internal on a volume migrated before: the files are as old as that migration. */
export function warnIfMigratedAway(markerPath: string = PATHS.storageMigrated): void {
  if (!existsSync(markerPath)) return;
  const marker = readMarker(markerPath);
  log("warn", `XMPP_STORAGE is internal, but this volume's files were migrated to ${marker?.to || "SQL"} (${markerPath}): they hold the data as it was then, not what was written to the database since`);
}
