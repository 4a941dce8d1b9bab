import { describe, expect, it } from "vitest";
import type { SqlConnection } from "../config/storage-config.js";
import { databaseAnswers, databaseGauge, storeRows, type ProbeRunner } from "./database-probe.js";

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

describe("databaseGauge", () => {
  /** A probe that answers only when told to, like one waiting on a database that hangs. */
  function heldProbe() {
    const pending: Array<(stdout: string) => void> = [];
    const run: ProbeRunner = () => new Promise((resolve) => pending.push((stdout) => resolve({ exitCode: 0, stdout, output: stdout })));
    return { run, pending };
  }

  it("should run one probe for scrapes that come while it is in flight, and give them all its answer", async () => {
    const { run, pending } = heldProbe();
    const gauge = databaseGauge(SQL, { run, now: () => 0 });
    const scrapes = Array.from({ length: 20 }, () => gauge());
    expect(pending).toHaveLength(1);
    pending[0]!("error no connection to the server\n");
    expect(await Promise.all(scrapes)).toEqual(Array.from({ length: 20 }, () => false));
  });

  it("should reuse an answer for maxAgeMs, then ask the database again", async () => {
    const { run, pending } = heldProbe();
    let clock = 1_000;
    const gauge = databaseGauge(SQL, { run, maxAgeMs: 5_000, now: () => clock });
    const first = gauge();
    pending[0]!("ok\n");
    expect(await first).toBe(true);
    clock += 4_999;
    expect(await gauge()).toBe(true);
    expect(pending).toHaveLength(1);
    clock += 1;
    const second = gauge();
    expect(pending).toHaveLength(2);
    pending[1]!("error no connection to the server\n");
    expect(await second).toBe(false);
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
