import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError, UnavailableError } from "../errors.js";
import type { SqlConnection } from "../config/storage-config.js";
import { classifyFailure, DatabaseUnreachable, type DatabaseState } from "./database-probe.js";
import { retryDelay, waitForDatabase } from "./wait-for-database.js";

const SQL: SqlConnection = { driver: "PostgreSQL", database: "dbname=prosody sslmode=prefer connect_timeout=5", host: "db", port: 5432, username: "prosody", password: "pw" };
const REFUSED = 'connection to server at "db" (172.18.0.2), port 5432 failed: Connection refused Is the server running on that host and accepting TCP/IP connections?';

/** A clock that only moves when the wait sleeps, and a database that answers on the given try. */
function scripted(failures: string[], answer: DatabaseState = { rows: 0, migrations: [] }) {
  let clock = 0;
  const sleeps: number[] = [];
  const tries = [...failures];
  return {
    sleeps,
    options: {
      now: () => clock,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        clock += ms;
      },
      state: async () => {
        const failure = tries.shift();
        if (failure !== undefined) throw new DatabaseUnreachable(classifyFailure(failure));
        return answer;
      },
    },
  };
}

describe("waitForDatabase", () => {
  let warnings: string[];
  beforeEach(() => {
    warnings = [];
    vi.spyOn(process.stderr, "write").mockImplementation((line) => (warnings.push(String(line)), true));
  });
  afterEach(() => vi.restoreAllMocks());

  it("should try again after 1, 2, 4, 8 and then every 10 s, logging each try", async () => {
    const script = scripted([REFUSED, REFUSED, 'could not translate host name "db" to address: Name or service not known', REFUSED, REFUSED, REFUSED]);
    expect(await waitForDatabase(SQL, { waitMs: 60_000, ...script.options })).toEqual({ rows: 0, migrations: [] });
    expect(script.sleeps).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    expect(warnings[0]).toBe(`appliance warn  PostgreSQL database prosody at db:5432: connection refused (${REFUSED}); trying again in 1 s (try 1, giving up 60 s from now)\n`);
    expect(warnings[2]).toContain("host name not found");
  });

  it("should give up after the wait with exit 69, naming the host and the last reason", async () => {
    const script = scripted(Array(20).fill(REFUSED));
    const error = await waitForDatabase(SQL, { waitMs: 10_000, ...script.options }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).exitCode).toBe(69);
    expect((error as Error).message).toBe(`PostgreSQL database prosody at db:5432 did not answer within 10 s (5 tries): connection refused (${REFUSED}). Start the database, or check XMPP_DB_HOST and XMPP_DB_PORT`);
    expect(script.sleeps).toEqual([1_000, 2_000, 4_000, 3_000]);
  });

  it.each([
    ['FATAL:  password authentication failed for user "prosody"', "authentication failed (user or password wrong)", "XMPP_DB_USER and XMPP_DB_PASSWORD"],
    ['FATAL:  database "prosody" does not exist', "no such database", "XMPP_DB_NAME (the database must exist; Prosody creates the tables in it)"],
    ["server does not support SSL, but SSL was required", "TLS failed (see XMPP_DB_TLS)", "XMPP_DB_TLS"],
  ])("should not wait when the database says no: %s", async (detail, reason, settings) => {
    const script = scripted([detail]);
    const error = await waitForDatabase(SQL, { waitMs: 60_000, ...script.options }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([`PostgreSQL database prosody at db:5432 refused the connection: ${reason} (${detail}). Check ${settings}`]);
    expect(script.sleeps).toEqual([]);
  });

  it("should grow the pause up to 10 s", () => {
    expect([1, 2, 3, 4, 5, 9].map(retryDelay)).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });
});
