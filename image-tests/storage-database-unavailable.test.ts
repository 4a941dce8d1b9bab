import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntilReady } from "./helpers/appliance.js";
import { storageFixture, type StorageFixture } from "./helpers/storage-fixture.js";
import { waitFor } from "../test-support/wait-for.js";

describe("a PostgreSQL database that is not there, or says no, at start", () => {
  let fixture: StorageFixture;
  beforeAll(async () => {
    fixture = await storageFixture();
  }, 400_000);
  afterAll(async () => {
    await fixture?.[Symbol.asyncDispose]();
  });

  it("should wait for a database that is down, logging each try, and start once it answers", async () => {
    await fixture.postgres.down();
    await using server = await fixture.appliance({ env: fixture.postgresEnv(), waitUntil: "started" });
    await waitFor("the appliance to log its first try", async () => (await server.logs()).includes("(try 1, giving up"), { timeoutMs: 120_000, intervalMs: 500 });
    await fixture.postgres.up();
    await waitUntilReady(server);
    const logs = await server.logs();
    expect(logs).toContain(`appliance warn  ${fixture.where()}: connection refused (connect ECONNREFUSED ${fixture.postgres.address}:5432); trying again in 1 s (try 1, giving up `);
    expect(logs).toMatch(new RegExp(`wait for the database: ${fixture.where().replaceAll(".", "\\.")} answers, \\d+ rows in Prosody's tables`));
  }, 300_000);

  it("should give up after XMPP_DB_WAIT with exit 69, naming host and reason; and refuse a wrong password or database at once with exit 78", async () => {
    const [nobody, password, database] = await Promise.all([
      fixture.appliance({ env: { ...fixture.postgresEnv(), XMPP_DB_PORT: "5433", XMPP_DB_WAIT: "10s" }, waitUntil: "started" }),
      fixture.appliance({ env: { ...fixture.postgresEnv(), XMPP_DB_PASSWORD: "not the password" }, waitUntil: "started" }),
      fixture.appliance({ env: fixture.postgresEnv("missing"), waitUntil: "started" }),
    ]);
    await using _nobody = nobody;
    await using _password = password;
    await using _database = database;
    const where5433 = fixture.where().replace(":5432", ":5433");
    const [nobodyExit, passwordExit, databaseExit] = await Promise.all([nobody.exited(), password.exited(), database.exited()]);

    const nobodyLogs = await nobody.logs();
    expect(nobodyExit, nobodyLogs).toBe(69);
    expect(nobodyLogs).toContain(`appliance warn  ${where5433}: connection refused (connect ECONNREFUSED ${fixture.postgres.address}:5433); trying again in 1 s (try 1, giving up `);
    // The pauses' growth is the unit test's: here a busy machine's slow tries may leave room for few.
    expect(nobodyLogs).toMatch(new RegExp(`appliance error ${where5433.replaceAll(".", "\\.")} did not answer within 10 s \\(\\d+ tries\\): connection refused`));
    expect(nobodyLogs).toContain("appliance error not starting Prosody (exit 69)");

    const passwordLogs = await password.logs();
    expect(passwordExit, passwordLogs).toBe(78);
    expect(passwordLogs).toContain(
      `appliance error ${fixture.where()} refused the connection: authentication failed (user or password wrong) (password authentication failed for user "prosody" (28P01)). Check XMPP_DB_USER and XMPP_DB_PASSWORD`,
    );
    expect(passwordLogs).not.toContain("not the password");
    expect(passwordLogs).not.toContain("trying again");

    const databaseLogs = await database.logs();
    expect(databaseExit, databaseLogs).toBe(78);
    expect(databaseLogs).toContain(`appliance error ${fixture.where("missing")} refused the connection: no such database (database "missing" does not exist (3D000)). Check XMPP_DB_NAME`);
  }, 300_000);
});
