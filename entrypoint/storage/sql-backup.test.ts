import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { SqlConnection } from "../config/storage-config.js";
import { tempDirPerTest } from "../../test-support/file-fixtures.js";
import type { StoreRows } from "./database-probe.js";
import { exportSql, firstRunJids, importSql, migratorStores, userDataRows } from "./sql-backup.js";

const temp = tempDirPerTest();
const SQL: SqlConnection = { driver: "PostgreSQL", database: "dbname=prosody sslmode=prefer connect_timeout=5", host: "db", port: 5432, username: "prosody", password: "s3cret" };
const row = (kind: StoreRows["kind"], host: string, user: string, store: string, rows = 1): StoreRows => ({ kind, host, user, store, rows });

function migrator(output = "Migrating...\nDone!\n") {
  const configs: string[] = [];
  let configDir = "";
  return {
    configs,
    configDir: () => configDir,
    options: {
      makeConfigDir: () => {
        configDir = join(temp.dir(), "config");
        mkdirSync(configDir);
        return configDir;
      },
      runMigrator: async (path: string) => {
        configs.push(readFileSync(path, "utf8"));
        return { exitCode: 0, stdout: output, output };
      },
    },
  };
}

describe("userDataRows", () => {
  it("should leave out Prosody's bookkeeping and the first-run accounts, and keep every other row", () => {
    const rows = [
      row("keyval", "example.org", "", "cron"),
      row("keyval", "example.org", "admin", "accounts"),
      row("keyval", "example.org", "admin", "account_roles"),
      row("keyval", "example.org", "admin", "roster"),
      row("keyval", "example.org", "bob", "accounts"),
      row("archive", "example.org", "admin", "archive", 3),
    ];
    expect(userDataRows(rows, ["admin@example.org"])).toEqual([rows[3], rows[4], rows[5]]);
  });
});

describe("firstRunJids", () => {
  it("should read the JIDs of the marker without its comments, and none when there is no marker", () => {
    const path = join(temp.dir(), "first-run-accounts");
    expect(firstRunJids(path)).toEqual([]);
    writeFileSync(path, "# handled\nadmin@example.org\n\nbob@example.org\n");
    expect(firstRunJids(path)).toEqual(["admin@example.org", "bob@example.org"]);
  });
});

describe("migratorStores", () => {
  it("should list each host's stores once, archives as the migrator spells them", () => {
    const rows = [row("keyval", "example.org", "a", "roster"), row("keyval", "example.org", "b", "roster"), row("archive", "example.org", "a", "archive"), row("keyval", "muc.example.org", "", "persistent")];
    expect([...migratorStores(rows)]).toEqual([
      ["example.org", ["archive-archive", "roster"]],
      ["muc.example.org", ["persistent"]],
    ]);
  });
});

describe("exportSql", () => {
  it("should run the migrator from the database into the directory with every store, and remove its config", async () => {
    const m = migrator();
    const dir = join(temp.dir(), "export");
    const stores = await exportSql(SQL, dir, { ...m.options, rows: async () => [row("keyval", "example.org", "a", "roster"), row("archive", "example.org", "a", "archive")] });
    expect(stores).toBe(2);
    expect(m.configs[0]).toContain(`input { database = "dbname=prosody sslmode=prefer connect_timeout=5", driver = "PostgreSQL", host = "db", hosts = { ["example.org"] = { "archive-archive", "roster" } }`);
    expect(m.configs[0]).toContain(`output { path = ${JSON.stringify(dir)}, type = "internal" }`);
    expect(existsSync(m.configDir())).toBe(false); // it holds the password
  });

  it("should not run the migrator for an empty database", async () => {
    const m = migrator();
    expect(await exportSql(SQL, join(temp.dir(), "export"), { ...m.options, rows: async () => [] })).toBe(0);
    expect(m.configs).toEqual([]);
  });

  it("should fail with the migrator's last lines when it does not finish, its config removed", async () => {
    const m = migrator("Migrating...\nerror: connection lost\n");
    await expect(exportSql(SQL, join(temp.dir(), "export"), { ...m.options, rows: async () => [row("keyval", "example.org", "a", "roster")] })).rejects.toThrow(
      "prosody-migrator failed (exit 0): Migrating... / error: connection lost",
    );
    expect(existsSync(m.configDir())).toBe(false);
  });
});

describe("importSql", () => {
  it("should run the migrator from the files under the directory into the database", async () => {
    const dir = join(temp.dir(), "staging");
    mkdirSync(join(dir, "example%2eorg", "roster"), { recursive: true });
    writeFileSync(join(dir, "example%2eorg", "roster", "alice.dat"), "return {};\n");
    mkdirSync(join(dir, "http_file_share"));
    const m = migrator();
    expect(await importSql(SQL, dir, m.options)).toBe(1);
    expect(m.configs[0]).toContain(`input { hosts = { ["example.org"] = { "roster" } }, path = ${JSON.stringify(dir)}, type = "internal" }`);
    expect(m.configs[0]).toContain(`output { database = "dbname=prosody sslmode=prefer connect_timeout=5", driver = "PostgreSQL", host = "db", password = "s3cret"`);
  });
});
