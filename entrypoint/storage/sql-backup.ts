import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { renderMigratorConfig, type StorageBackend, type SqlConnection } from "../config/storage-config.js";
import { writeFileAtomic } from "../config/write-config.js";
import { PATHS, PROSODY_USER } from "../paths.js";
import { ownPathForReading } from "../identity.js";
import type { CommandResult } from "../run-as-prosody.js";
import { storeRows, type StoreRows } from "./database-probe.js";
import { findInternalStores } from "./internal-stores.js";
import { runProsodyMigrator } from "./migrate-storage.js";

export interface SqlBackupOptions {
  rows?: (sql: SqlConnection) => Promise<StoreRows[]>;
  runMigrator?: (configPath: string) => Promise<CommandResult>;
  /** A directory only root and prosody can enter, for the migrator's config (it holds the password). */
  makeConfigDir?: () => string;
}

/**
 * Rows that hold a user's or a room's data, as appliance-data.sh's user_data_files counts files:
 * not Prosody's bookkeeping (cron, upload_stats, accounts_cleanup), not the accounts the
 * entrypoint created at first start (`firstRun`, bare JIDs), so a fresh server counts as empty.
 */
export function userDataRows(rows: readonly StoreRows[], firstRun: readonly string[]): StoreRows[] {
  const handled = new Set(firstRun);
  return rows.filter(({ kind, host, user, store }) => {
    if (kind === "archive") return true;
    if (store === "cron" || store === "upload_stats" || store === "accounts_cleanup") return false;
    const account = store === "accounts" || store === "account_roles" || store === "account_details";
    return !(account && handled.has(`${user}@${host}`));
  });
}

/** The JIDs in the first-run marker of the volume (one a line, `#` comments), or none. */
export function firstRunJids(path: string = PATHS.firstRunAccounts): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return text.split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
}

/** Each host's stores as prosody-migrator spells them (`name`, `name-archive`), sorted. */
export function migratorStores(rows: readonly StoreRows[]): Map<string, string[]> {
  const hosts = new Map<string, Set<string>>();
  for (const { kind, host, store } of rows) {
    if (host === "" || store === "") continue;
    const stores = hosts.get(host) ?? new Set<string>();
    stores.add(kind === "archive" ? `${store}-archive` : store);
    hosts.set(host, stores);
  }
  return new Map([...hosts].sort(([a], [b]) => a.localeCompare(b)).map(([host, stores]) => [host, [...stores].sort()]));
}

function makeProsodyConfigDir(): string {
  const dir = mkdtempSync(join("/tmp", "appliance-migrator-"));
  ownPathForReading(dir);
  chmodSync(dir, 0o750); // mkdtemp's 0700 would keep the migrator (as prosody) out
  return dir;
}

/** One prosody-migrator run from `from` to `to`; its config (with the password) removed afterwards. */
async function migrate(from: StorageBackend, to: StorageBackend, hosts: ReadonlyMap<string, readonly string[]>, options: SqlBackupOptions): Promise<void> {
  const { runMigrator = runProsodyMigrator, makeConfigDir = makeProsodyConfigDir } = options;
  const dir = makeConfigDir();
  const configPath = join(dir, "migrator.cfg.lua");
  let result: CommandResult;
  try {
    writeFileAtomic(configPath, renderMigratorConfig(from, to, hosts), 0o640, PROSODY_USER.gid);
    result = await runMigrator(configPath);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (result.exitCode !== 0 || !/^Done!$/m.test(result.output)) {
    const last = result.output.trim().split("\n").slice(-5).join(" / ");
    throw new Error(`prosody-migrator failed (exit ${result.exitCode}): ${last}`);
  }
}

/**
 * Copies every store of the SQL database into Prosody's file format under `dir` (owned by
 * prosody), as a backup of internal storage holds it. Returns how many stores were copied.
 */
export async function exportSql(sql: SqlConnection, dir: string, options: SqlBackupOptions = {}): Promise<number> {
  const rows = await (options.rows ?? storeRows)(sql);
  const hosts = migratorStores(rows);
  if (hosts.size > 0) await migrate({ type: "sql", sql }, { type: "internal", path: dir }, hosts, options);
  return [...hosts.values()].flat().length;
}

/** Copies every store in Prosody's file format under `dir` into the SQL database. */
export async function importSql(sql: SqlConnection, dir: string, options: SqlBackupOptions = {}): Promise<number> {
  const found = findInternalStores(dir);
  const hosts = new Map([...found].map(([host, stores]) => [host, stores.map((s) => s.migratorName)]));
  if (hosts.size > 0) await migrate({ type: "internal", path: dir }, { type: "sql", sql }, hosts, options);
  return [...hosts.values()].flat().length;
}
