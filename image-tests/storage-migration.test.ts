import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeTestVolume } from "./helpers/appliance.js";
import { copyVolume, DOMAIN, expectSeededData, seedInternalVolume, storageFixture, type StorageFixture } from "./helpers/storage-fixture.js";

// The archive holds the message twice: alice's copy and bob's.
const MIGRATED_COUNTS = [`migrated ${DOMAIN} accounts: 2 records`, `migrated ${DOMAIN} roster: 1 records`, `migrated ${DOMAIN} offline-archive: 1 items`, `migrated ${DOMAIN} archive-archive: 2 items`];

describe("switching a volume from file storage to SQL", () => {
  let fixture: StorageFixture;
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const seeded = `appliance-test-seeded-${tag}`;
  const volumes = [seeded];
  const copyOfSeeded = async (name: string) => {
    volumes.push(`appliance-test-${name}-${tag}`);
    await copyVolume(seeded, volumes.at(-1)!);
    return volumes.at(-1)!;
  };

  beforeAll(async () => {
    fixture = await storageFixture();
    await seedInternalVolume(fixture, seeded);
  }, 400_000);

  afterAll(async () => {
    await fixture?.[Symbol.asyncDispose]();
    for (const volume of volumes) await removeTestVolume(volume);
  });

  it("should move accounts, roster, offline message and archive to PostgreSQL once, keep the files, and not migrate again", async () => {
    const volume = await copyOfSeeded("to-postgres");
    {
      await using server = await fixture.appliance({ dataVolume: volume, env: fixture.postgresEnv() });
      const logs = await server.logs();
      for (const line of MIGRATED_COUNTS) expect(logs).toContain(`appliance info  ${line}`);
      expect(logs).toMatch(/migrate files to SQL: \d+ records of \d+ hosts migrated to /);
      expect(logs).toContain(`migrated to ${fixture.where()}; the files are kept`);
      await expectSeededData(fixture, server);
      // The files stay, and the marker names where they went.
      expect((await server.exec(["cat", "/var/lib/prosody/example%2eorg/accounts/alice.dat"])).exitCode).toBe(0);
      expect((await server.exec(["cat", "/var/lib/prosody/storage-migrated"])).stdout).toContain(`to=${fixture.where()}`);
      await server.container.stop({ t: 10 });
    }
    expect(await fixture.postgres.psql(`SELECT count(DISTINCT "user") FROM prosody WHERE host = '${DOMAIN}' AND store = 'accounts'`)).toBe("2");
    expect(await fixture.postgres.psql("SELECT count(*) FROM appliance_migration WHERE finished IS NOT NULL")).toBe("1");

    await using again = await fixture.appliance({ dataVolume: volume, env: fixture.postgresEnv() });
    const logs = await again.logs();
    expect(logs).toContain("migrate files to SQL: done before (/var/lib/prosody/storage-migrated)");
    expect(logs).not.toContain("migrated example.org");
    await expectSeededData(fixture, again, { offlineDelivered: true });
  }, 400_000);

  it("should move the same data into SQLite in the volume", async () => {
    const volume = await copyOfSeeded("to-sqlite");
    await using server = await fixture.appliance({ dataVolume: volume, env: { XMPP_STORAGE: "sqlite" } });
    const logs = await server.logs();
    for (const line of MIGRATED_COUNTS) expect(logs).toContain(`appliance info  ${line}`);
    expect(logs).toContain("migrated to SQLite3 /var/lib/prosody/prosody.sqlite");
    await expectSeededData(fixture, server);
    const stat = await server.exec(["stat", "-c", "%U %a", "/var/lib/prosody/prosody.sqlite"]);
    expect(stat.stdout.trim()).toBe("prosody 640");
  }, 300_000);

  it("should refuse to migrate into a database that holds data it did not migrate", async () => {
    const volume = await copyOfSeeded("refused");
    await fixture.postgres.psql("CREATE DATABASE taken OWNER prosody", "postgres");
    await fixture.postgres.psql("SET ROLE prosody; CREATE TABLE prosody (host TEXT); INSERT INTO prosody VALUES ('someone else''s');", "taken");
    await using server = await fixture.appliance({ dataVolume: volume, env: fixture.postgresEnv("taken"), waitUntil: "started" });
    expect(await server.exited()).toBe(78);
    const logs = await server.logs();
    expect(logs).toContain(
      `appliance error XMPP_STORAGE: ${fixture.where("taken")} already holds 1 rows that were not migrated from this volume, and this volume has data in Prosody's files: not migrating (the migrator would overwrite what is there).`,
    );
    expect(logs).not.toContain("migrating Prosody's files");
    expect(await fixture.postgres.psql("SELECT count(*) FROM prosody", "taken")).toBe("1");
  }, 300_000);
});
