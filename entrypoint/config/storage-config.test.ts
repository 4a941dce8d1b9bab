import { describe, expect, it } from "vitest";
import { loadSettings } from "../settings.js";
import { describeSql, renderMigratorConfig, sqlConnection, storage } from "./storage-config.js";

const settingsWith = (env: Record<string, string>) => loadSettings({ XMPP_DOMAINS: "example.org", ...env });

describe("storage config", () => {
  it("should leave Prosody's file storage alone with internal", () => {
    expect(storage(settingsWith({}))).toEqual({});
    expect(sqlConnection(settingsWith({}))).toBeUndefined();
  });

  it("should give PostgreSQL its sslmode and a connect timeout through the database name (libpq conninfo)", () => {
    const settings = settingsWith({ XMPP_STORAGE: "postgres", XMPP_DB_HOST: "db", XMPP_DB_PASSWORD: "pw", XMPP_DB_TLS: "verify-full" });
    const sql = sqlConnection(settings)!;
    expect(sql).toEqual({ driver: "PostgreSQL", database: "dbname=prosody sslmode=verify-full connect_timeout=5 sslrootcert=system", host: "db", port: 5432, username: "prosody", password: "pw" });
    expect(describeSql(sql)).toBe("PostgreSQL database prosody at db:5432");
    expect(storage(settings).global).toEqual([["storage", "sql"], ["sql", sql], ["sql_manage_tables", true]]);
    expect(storage(settings).globalModules).toEqual(["appliance_sql_statements"]);
  });

  it("should keep SQLite in the data volume", () => {
    expect(sqlConnection(settingsWith({ XMPP_STORAGE: "sqlite" }))).toEqual({ driver: "SQLite3", database: "/var/lib/prosody/prosody.sqlite" });
  });

  it("should write prosody-migrator's input and output stores, each host with its stores", () => {
    const text = renderMigratorConfig(
      { type: "internal", path: "/var/lib/prosody" },
      { type: "sql", sql: { driver: "SQLite3", database: "/var/lib/prosody/prosody.sqlite" } },
      new Map([["example.org", ["accounts", "archive-archive"]], ["conference.example.org", ["persistent"]]]),
    );
    expect(text.split("\n").slice(1)).toEqual([
      'input { hosts = { ["conference.example.org"] = { "persistent" }, ["example.org"] = { "accounts", "archive-archive" } }, path = "/var/lib/prosody", type = "internal" }',
      'output { database = "/var/lib/prosody/prosody.sqlite", driver = "SQLite3", type = "sql" }',
      "",
    ]);
  });
});
