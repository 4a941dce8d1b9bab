import { PATHS } from "../paths.js";
import type { Settings } from "../settings.js";
import { luaValue, type LuaValue } from "./lua.js";
import type { ServiceFragment } from "./services/service-fragment.js";

export type StorageSettings = Pick<Settings, "storage" | "dbHost" | "dbPort" | "dbName" | "dbUser" | "dbPassword" | "dbTls">;

/** Prosody's `sql` option: what mod_storage_sql and the migrator connect with. */
export interface SqlConnection {
  driver: "SQLite3" | "PostgreSQL";
  database: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
}

/** One side of a migration: Prosody's files in a directory, or an SQL database. */
export type StorageBackend = { type: "internal"; path: string } | { type: "sql"; sql: SqlConnection };

/**
 * LuaDBI hands the database name to libpq's PQsetdbLogin, which takes a name containing `=` as
 * a conninfo string: the only way to give libpq an sslmode through Prosody's `sql` option.
 * `sslrootcert=system` (libpq 16+) verifies against the system's CA list. A connect_timeout:
 * libpq would otherwise wait for a silent host as long as TCP does (minutes).
 */
function postgresConninfo({ dbName, dbTls }: Pick<StorageSettings, "dbName" | "dbTls">): string {
  return [`dbname=${dbName}`, `sslmode=${dbTls}`, "connect_timeout=5", ...(dbTls === "verify-full" ? ["sslrootcert=system"] : [])].join(" ");
}

/** The SQL database the settings name, or undefined with XMPP_STORAGE=internal. */
export function sqlConnection(settings: StorageSettings): SqlConnection | undefined {
  if (settings.storage === "sqlite") return { driver: "SQLite3", database: PATHS.sqliteDatabase };
  if (settings.storage === "postgres") {
    return {
      driver: "PostgreSQL",
      database: postgresConninfo(settings),
      host: settings.dbHost,
      port: settings.dbPort,
      username: settings.dbUser,
      password: settings.dbPassword,
    };
  }
  return undefined;
}

/** Where the settings keep the data, as a migrator store. */
export function storageBackend(settings: StorageSettings, dataDir: string = PATHS.dataDir): StorageBackend {
  const sql = sqlConnection(settings);
  return sql ? { type: "sql", sql } : { type: "internal", path: dataDir };
}

/** "PostgreSQL prosody at db:5432" / "SQLite3 /var/lib/prosody/prosody.sqlite": for logs, never with the password. */
export function describeSql(sql: SqlConnection): string {
  if (sql.driver === "SQLite3") return `SQLite3 ${sql.database}`;
  const name = /dbname=(\S+)/.exec(sql.database)?.[1] ?? sql.database;
  return `PostgreSQL database ${name} at ${sql.host}:${sql.port}`;
}

/** The storage options of the generated config: nothing for Prosody's default file storage. */
export function storage(settings: StorageSettings): ServiceFragment {
  const sql = sqlConnection(settings);
  if (!sql) return {};
  // sql_manage_tables (Prosody's default, said here so it stays): creates and upgrades the schema at load.
  return {
    global: [["storage", "sql"], ["sql", sqlTable(sql)], ["sql_manage_tables", true]],
    // LuaDBI's statements outliving a dropped connection crash Prosody once the database is back.
    globalModules: ["appliance_sql_statements"],
  };
}

function sqlTable(sql: SqlConnection): { [key: string]: LuaValue } {
  return Object.fromEntries(Object.entries(sql).filter(([, value]) => value !== undefined)) as { [key: string]: LuaValue };
}

function backendTable(backend: StorageBackend): { [key: string]: LuaValue } {
  return backend.type === "internal" ? { type: "internal", path: backend.path } : { type: "sql", ...sqlTable(backend.sql) };
}

/**
 * prosody-migrator's config: stores `input` and `output`, the input listing each host's stores
 * (`name` for key-value stores, `name-archive` for archives, as the migrator spells them).
 * Run it as `prosody-migrator --config FILE input output`. Contains the database password:
 * write it 0640 root:prosody and remove it afterwards.
 */
export function renderMigratorConfig(from: StorageBackend, to: StorageBackend, hosts: ReadonlyMap<string, readonly string[]>): string {
  const input = { ...backendTable(from), hosts: Object.fromEntries([...hosts].map(([host, stores]) => [host, [...stores]])) };
  return `-- Written by the prosody-appliance entrypoint for one prosody-migrator run.\ninput ${luaValue(input)}\noutput ${luaValue(backendTable(to))}\n`;
}
