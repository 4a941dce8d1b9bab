import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../test-support/wait-for.js";
import { sampleOf } from "../test-support/openmetrics.js";
import type { Appliance } from "./helpers/appliance.js";
import { METRICS_PORT, metrics } from "./helpers/scrape-metrics.js";
import { ACCOUNTS_SETTING, DOMAIN, storageFixture, type StorageFixture } from "./helpers/storage-fixture.js";

describe("PostgreSQL going away while the server runs", () => {
  let fixture: StorageFixture;
  let server: Appliance;
  beforeAll(async () => {
    fixture = await storageFixture();
    server = await fixture.appliance({
      env: { ...fixture.postgresEnv(), XMPP_ACCOUNTS: ACCOUNTS_SETTING, XMPP_METRICS: `0.0.0.0:${METRICS_PORT}` },
      extraPorts: [METRICS_PORT],
    });
  }, 400_000);
  afterAll(async () => {
    await server?.dispose();
    await fixture?.[Symbol.asyncDispose]();
  });

  it("should report the outage, keep connected sessions, and serve logins and storage again once the database is back", async () => {
    await using alice = await fixture.login(server, "alice");
    await alice.setRosterItem(`bob@${DOMAIN}`, "Bob");
    const before = (await server.logs()).length;
    // The gauge answers from a probe at most every few seconds (databaseGauge): read until it turns.
    const databaseUp = async () => sampleOf(await metrics(server), "appliance_database_up").value;
    const gaugeReads = (value: number, when: string) =>
      waitFor(`appliance_database_up to read ${value} ${when}`, async () => (await databaseUp()) === value, { timeoutMs: 20_000, intervalMs: 1_000 });
    expect(await databaseUp()).toBe(1);

    await fixture.postgres.down();
    // Storage fails while the database is down, and Prosody says so in its log.
    await expect(alice.setRosterItem(`carol@${DOMAIN}`, "Carol")).rejects.toThrow();
    await expect(fixture.login(server, "bob")).rejects.toThrow();
    const outage = (await server.logs()).slice(before);
    expect(outage).toMatch(/error\s.*(SQL|database|connect)/i);
    expect(alice.isOnline()).toBe(true);
    // Scraped while down: Prosody collects its metrics, which allocates and so collects garbage with the
    // broken connection; without mod_appliance_sql_statements that crashed it (SIGSEGV) once the database was back.
    await gaugeReads(0, "while PostgreSQL is down");

    await fixture.postgres.up();
    await using bob = await waitFor("bob to log in again after the database came back", () => fixture.login(server, "bob").catch(() => undefined), { timeoutMs: 60_000, intervalMs: 1_000 });
    expect(bob.isOnline()).toBe(true);
    await gaugeReads(1, "once PostgreSQL is back");
    // The users talk again: stored (archive) and delivered live.
    await alice.send(`bob@${DOMAIN}`, "back after the outage");
    expect((await bob.waitForMessage(`alice@${DOMAIN}`)).body).toBe("back after the outage");
    await bob.send(`alice@${DOMAIN}`, "glad to be back");
    expect((await alice.waitForMessage(`bob@${DOMAIN}`)).body).toBe("glad to be back");
    expect(await alice.archivedBodies()).toEqual(expect.arrayContaining(["back after the outage", "glad to be back"]));
    await alice.setRosterItem(`carol@${DOMAIN}`, "Carol");
    expect(await alice.roster()).toEqual(new Map([[`bob@${DOMAIN}`, "Bob"], [`carol@${DOMAIN}`, "Carol"]]));
    expect((await server.exec(["appliance-healthcheck"])).exitCode).toBe(0);
  }, 300_000);
});
