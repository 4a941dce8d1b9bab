import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../test-support/wait-for.js";
import type { Appliance } from "./helpers/appliance.js";
import { ACCOUNTS_SETTING, DOMAIN, storageFixture, type StorageFixture } from "./helpers/storage-fixture.js";

describe("PostgreSQL going away while the server runs", () => {
  let fixture: StorageFixture;
  let server: Appliance;
  beforeAll(async () => {
    fixture = await storageFixture();
    server = await fixture.appliance({ env: { ...fixture.postgresEnv(), XMPP_ACCOUNTS: ACCOUNTS_SETTING } });
  }, 400_000);
  afterAll(async () => {
    await server?.dispose();
    await fixture?.[Symbol.asyncDispose]();
  });

  it("should report the outage, keep connected sessions, and serve logins and storage again once the database is back", async () => {
    await using alice = await fixture.login(server, "alice");
    await alice.setRosterItem(`bob@${DOMAIN}`, "Bob");
    const before = (await server.logs()).length;

    await fixture.postgres.down();
    // Storage fails while the database is down, and Prosody says so in its log.
    await expect(alice.setRosterItem(`carol@${DOMAIN}`, "Carol")).rejects.toThrow();
    await expect(fixture.login(server, "bob")).rejects.toThrow();
    const outage = (await server.logs()).slice(before);
    expect(outage).toMatch(/error\s.*(SQL|database|connect)/i);
    expect(alice.isOnline()).toBe(true);

    await fixture.postgres.up();
    await using bob = await waitFor("bob to log in again after the database came back", () => fixture.login(server, "bob").catch(() => undefined), { timeoutMs: 60_000, intervalMs: 1_000 });
    expect(bob.isOnline()).toBe(true);
    await alice.setRosterItem(`carol@${DOMAIN}`, "Carol");
    expect(await alice.roster()).toEqual(new Map([[`bob@${DOMAIN}`, "Bob"], [`carol@${DOMAIN}`, "Carol"]]));
    expect((await server.exec(["appliance-healthcheck"])).exitCode).toBe(0);
  }, 300_000);
});
