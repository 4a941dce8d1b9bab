import { describe, expect, it } from "vitest";
import type { SqlConnection } from "../config/storage-config.js";
import { databaseAnswers, storeRows, type ProbeRunner } from "./database-probe.js";

const SQL: SqlConnection = { driver: "PostgreSQL", database: "dbname=prosody sslmode=prefer connect_timeout=5", host: "db", port: 5432, username: "prosody", password: "s3cret" };
const answering = (stdout: string, exitCode = 0): ProbeRunner & { calls: Array<{ args: readonly string[]; connection: string }> } => {
  const calls: Array<{ args: readonly string[]; connection: string }> = [];
  return Object.assign(async (args: readonly string[], connection: string) => {
    calls.push({ args, connection });
    return { exitCode, stdout, output: stdout };
  }, { calls });
};

describe("databaseAnswers", () => {
  it("should be true when the probe's query answered, with the connection on stdin, not argv", async () => {
    const run = answering("ok\n");
    expect(await databaseAnswers(SQL, run)).toBe(true);
    expect(run.calls[0]!.args).toEqual(["ping"]);
    expect(run.calls[0]!.connection).toContain('password = "s3cret"');
  });

  it.each([
    ["a failed connection", answering("error no connection to the server\n", 2)],
    ["a probe that crashed", answering("", 1)],
  ])("should be false for %s, without throwing", async (_, run) => {
    expect(await databaseAnswers(SQL, run)).toBe(false);
  });
});

describe("storeRows", () => {
  it("should read one row count per host, user and store, a host's own data with no user", async () => {
    const run = answering("keyval\texample.org\talice\troster\t1\narchive\texample.org\talice\tarchive\t2\nkeyval\texample.org\t\tcron\t1\n");
    expect(await storeRows(SQL, run)).toEqual([
      { kind: "keyval", host: "example.org", user: "alice", store: "roster", rows: 1 },
      { kind: "archive", host: "example.org", user: "alice", store: "archive", rows: 2 },
      { kind: "keyval", host: "example.org", user: "", store: "cron", rows: 1 },
    ]);
  });

  it("should refuse a line it cannot read", async () => {
    await expect(storeRows(SQL, answering("table\tx\n"))).rejects.toThrow("appliance-storage-probe rows printed an unexpected line: table\tx");
  });
});
