import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../errors.js";
import type { SqlConnection } from "../config/storage-config.js";
import { tempDirPerTest } from "../../test-support/file-fixtures.js";
import { migrateToSql } from "./migrate-storage.js";

const temp = tempDirPerTest();
const SQL: SqlConnection = { driver: "PostgreSQL", database: "dbname=prosody sslmode=prefer connect_timeout=5", host: "db", port: 5432, username: "prosody", password: "pw" };
const EMPTY = { rows: 0, migrations: [] };

function setUp() {
  const dataDir = join(temp.dir(), "data");
  mkdirSync(join(dataDir, "example%2eorg", "accounts"), { recursive: true });
  writeFileSync(join(dataDir, "example%2eorg", "accounts", "alice.dat"), "return {};\n");
  const configs: string[] = [];
  const recorded: string[] = [];
  return {
    dataDir,
    markerPath: join(dataDir, "storage-migrated"),
    configPath: join(temp.dir(), "migrator.cfg.lua"),
    configs,
    recorded,
    runMigrator: async (path: string) => {
      configs.push(readFileSync(path, "utf8"));
      return { exitCode: 0, stdout: "", output: "Migrating...\nDone!\n" };
    },
    record: async (_sql: SqlConnection, phase: "begin" | "finish", id: string) => {
      recorded.push(`${phase} ${id}`);
    },
  };
}

describe("migrateToSql", () => {
  beforeEach(() => {
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());

  it("should migrate the files once: run the migrator with every store, record it, and keep the files", async () => {
    const env = setUp();
    const summary = await migrateToSql({ sql: SQL, state: EMPTY, ...env });
    expect(summary).toBe(`1 records of 1 hosts migrated to PostgreSQL database prosody at db:5432; the files are kept, ${env.markerPath} records it`);
    expect(env.configs).toHaveLength(1);
    expect(env.configs[0]).toContain(`input { hosts = { ["example.org"] = { "accounts" } }, path = ${JSON.stringify(env.dataDir)}, type = "internal" }`);
    expect(existsSync(env.configPath)).toBe(false); // it holds the password: removed after the run
    const marker = readFileSync(env.markerPath, "utf8");
    const id = /^id=(.+)$/m.exec(marker)![1]!;
    expect(env.recorded).toEqual([`begin ${id}`, `finish ${id}`]);
    expect(marker).toContain("migrated example.org: accounts 1");
    expect(existsSync(join(env.dataDir, "example%2eorg", "accounts", "alice.dat"))).toBe(true);

    expect(await migrateToSql({ sql: SQL, state: { rows: 5, migrations: [{ id, finished: true }] }, ...env })).toBe(`done before (${env.markerPath}); the files are kept as they were then`);
    expect(env.configs).toHaveLength(1);
  });

  it("should refuse a database holding rows it did not migrate, before running anything", async () => {
    const env = setUp();
    const error = await migrateToSql({ sql: SQL, state: { rows: 3, migrations: [] }, ...env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]).toMatch(/^XMPP_STORAGE: PostgreSQL database prosody at db:5432 already holds 3 rows that were not migrated from this volume/);
    expect(env.configs).toEqual([]);
    expect(env.recorded).toEqual([]);
  });

  it("should run a migration cut short again into the database it had started to fill, with the same id", async () => {
    const env = setUp();
    const failing = { ...env, runMigrator: async () => ({ exitCode: 1, stdout: "", output: "error: something broke\n" }) };
    await expect(migrateToSql({ sql: SQL, state: EMPTY, ...failing })).rejects.toThrow(/prosody-migrator failed \(exit 1\)/);
    const id = /^id=(.+)$/m.exec(readFileSync(`${env.markerPath}.pending`, "utf8"))![1]!;
    expect(existsSync(env.markerPath)).toBe(false);

    await migrateToSql({ sql: SQL, state: { rows: 7, migrations: [{ id, finished: false }] }, ...env });
    expect(readFileSync(env.markerPath, "utf8")).toContain(`id=${id}`);
    expect(existsSync(`${env.markerPath}.pending`)).toBe(false);
  });

  it("should have nothing to do on a volume without Prosody files", async () => {
    const env = setUp();
    const empty = join(temp.dir(), "fresh");
    expect(await migrateToSql({ sql: SQL, state: EMPTY, ...env, dataDir: empty })).toBe(`no data in Prosody's files in ${empty}: nothing to migrate`);
  });
});
