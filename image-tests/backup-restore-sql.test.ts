import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Appliance } from "./helpers/appliance.js";
import { ACCOUNTS_SETTING, DB_PASSWORD, DOMAIN, OFFLINE_BODY, expectSeededData, storageFixture, type StorageFixture } from "./helpers/storage-fixture.js";
import { shellCommand } from "../test-support/shell-command.js";

/** A fresh server still counts as empty with the account its first start created. */
const FIRST_ADMIN = { XMPP_ADMINS: `admin@${DOMAIN}`, XMPP_ADMIN_PASSWORD: "pw-first-admin" };

/** The manifest of an archive on the host. */
async function manifestOf(archive: string): Promise<Record<string, unknown>> {
  return JSON.parse((await shellCommand(`tar -xzOf ${archive} manifest.json`)).stdout) as Record<string, unknown>;
}

// One chain, each step the next one's input: file storage -> archive -> PostgreSQL -> archive ->
// file storage. The offline message is checked by a user at the end, so it crosses both ways.
describe("backup and restore across storage kinds (file storage and PostgreSQL)", () => {
  const backups = mkdtempSync(join(tmpdir(), "appliance-sql-backups-"));
  let fixture: StorageFixture;
  let source: Appliance;
  let postgresTarget: Appliance;
  let internalTarget: Appliance;

  beforeAll(async () => {
    fixture = await storageFixture();
    await fixture.postgres.psql("CREATE DATABASE target OWNER prosody", "postgres");
    // Independent, so started together: a file-storage server with data, a fresh PostgreSQL one, a fresh file-storage one.
    [source, postgresTarget, internalTarget] = await Promise.all([
      fixture.appliance({ env: { XMPP_ACCOUNTS: ACCOUNTS_SETTING } }),
      fixture.appliance({ env: { ...fixture.postgresEnv("target"), ...FIRST_ADMIN } }),
      fixture.appliance({ env: FIRST_ADMIN }),
    ]);
    await using alice = await fixture.login(source, "alice");
    await alice.setRosterItem(`bob@${DOMAIN}`, "Bob");
    await alice.send(`bob@${DOMAIN}`, OFFLINE_BODY); // bob is offline
    expect(await alice.archivedBodies()).toEqual([OFFLINE_BODY]);
    await alice.close();
  }, 400_000);

  afterAll(async () => {
    for (const server of [source, postgresTarget, internalTarget]) await server?.[Symbol.asyncDispose]();
    await fixture?.[Symbol.asyncDispose]();
    rmSync(backups, { recursive: true, force: true });
  });

  it("should restore a file-storage server's backup into a fresh PostgreSQL-backed server (with its first admin), and refuse a second time", async () => {
    const archive = join(backups, "from-internal.tar.gz");
    const backup = await shellCommand(`docker exec ${source.container.id} appliance-backup > ${archive}`);
    expect(backup.status).toBe(0);
    expect(await manifestOf(archive)).toMatchObject({ storage: "internal", counts: { accounts: 2, roster: 1, offline: 1, archive: 2 } });

    const restore = await shellCommand(`docker exec -i ${postgresTarget.container.id} appliance-restore < ${archive}`);
    // mod_cron's stores (cron, upload_stats) are there only once its first run after start saved them.
    expect(restore.stderr).toMatch(
      new RegExp(
        `^appliance-restore: \\d+ stores imported into ${fixture.where("target").replace(/\./g, "\\.")} \\(prosody-migrator\\)\n` +
          "appliance-restore: restored \\d+ files from the backup of [^(]+\\(appliance .+, Prosody 13\\.[^,]+, storage internal\\) into storage postgres: .*accounts 2, .*offline 1, .*roster 1(, .*)?\n$",
      ),
    );
    expect(restore.status).toBe(0);
    expect(await fixture.postgres.psql(`SELECT count(*) FROM prosodyarchive WHERE host = '${DOMAIN}' AND "user" = 'bob' AND store = 'offline'`, "target")).toBe("1");
    // Seen by alice (bob's offline message is read at the end of the chain, delivered only once).
    await using alice = await fixture.login(postgresTarget, "alice");
    expect(await alice.roster()).toEqual(new Map([[`bob@${DOMAIN}`, "Bob"]]));
    expect(await alice.archivedBodies()).toEqual([OFFLINE_BODY]);
    await alice.close();

    const again = await shellCommand(`docker exec -i ${postgresTarget.container.id} appliance-restore < ${archive}`);
    expect(again.stderr).toMatch(
      /^appliance-restore: this server holds data already \(\d+ stores and files, e\.g\. \S+ of \S*example\.org: \d+ rows\): a restore would mix two servers' data\. Restore into a fresh container, or replace this data with --force \(the server stopped\)\n$/,
    );
    expect(again.status).toBe(73);
    for (const output of [backup.stderr, restore.stderr, again.stderr]) expect(output).not.toContain(DB_PASSWORD);
  }, 200_000);

  it("should restore that PostgreSQL server's backup into a fresh file-storage server", async () => {
    const archive = join(backups, "from-postgres.tar.gz");
    const backup = await shellCommand(`docker exec ${postgresTarget.container.id} appliance-backup > ${archive}`);
    expect(backup.stderr).toMatch(new RegExp(`^appliance-backup: \\d+ stores exported from ${fixture.where("target").replace(/\./g, "\\.")} \\(prosody-migrator\\)\nappliance-backup: \\d+ files from conference\\.example\\.org,example\\.org,upload\\.example\\.org \\(storage postgres, `));
    expect(backup.status).toBe(0);
    expect(backup.stderr).not.toContain(DB_PASSWORD);
    // alice, bob and the target's own first admin.
    expect(await manifestOf(archive)).toMatchObject({ storage: "postgres", counts: { accounts: 3, roster: 1, offline: 1, archive: 2 } });

    const restore = await shellCommand(`docker exec -i ${internalTarget.container.id} appliance-restore < ${archive}`);
    expect(restore.stderr).toMatch(/^appliance-restore: restored \d+ files from the backup of .*storage postgres\) into storage internal: .*accounts 3, /);
    expect(restore.status).toBe(0);
    await expectSeededData(fixture, internalTarget);
  }, 200_000);

  it("should refuse --force into the PostgreSQL server that holds data, and keep every row (a database's rows cannot be set aside)", async () => {
    const rows = () => fixture.postgres.psql(`SELECT (SELECT count(*) FROM prosody) || ' ' || (SELECT count(*) FROM prosodyarchive)`, "target");
    const before = await rows();
    const forced = await shellCommand(`docker exec -i ${postgresTarget.container.id} appliance-restore --force < ${join(backups, "from-internal.tar.gz")}`);
    expect(forced.stderr).toBe(
      "appliance-restore: --force cannot set aside the data of an SQL database (XMPP_STORAGE=postgres): restore into an empty database (a new XMPP_DB_NAME, or a new volume for sqlite)\n",
    );
    expect(forced.status).toBe(73);
    expect(await rows()).toBe(before);
    await using alice = await fixture.login(postgresTarget, "alice");
    expect(await alice.roster()).toEqual(new Map([[`bob@${DOMAIN}`, "Bob"]]));
  }, 100_000);
});
