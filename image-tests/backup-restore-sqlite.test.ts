import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient } from "../test-support/xmpp/connect-client.js";
import { DOMAIN, startServicesServer, type ServicesServer } from "../test-support/services-server.js";
import { shellCommand } from "../test-support/shell-command.js";

const SQLITE = { XMPP_STORAGE: "sqlite" } as const;
/** A fresh server still counts as empty with the account its first start created. */
const FIRST_ADMIN = { XMPP_ADMINS: `admin@${DOMAIN}`, XMPP_ADMIN_PASSWORD: "pw-first-admin" };
const OFFLINE_BODY = "kept in SQLite for bob while he was away";
/** Two servers start at once in this file: more than one start's time on a busy machine. */
const READY_TIMEOUT_MS = 150_000;

describe("backup and restore with SQLite storage (XMPP_STORAGE=sqlite)", () => {
  const backups = mkdtempSync(join(tmpdir(), "appliance-sqlite-backups-"));
  const archive = join(backups, "from-sqlite.tar.gz");
  let source: ServicesServer;
  let fresh: ServicesServer;

  beforeAll(async () => {
    // Independent, so started together: the backup's source and a fresh server, both on SQLite.
    [source, fresh] = await Promise.all([
      startServicesServer({ env: SQLITE, readyTimeoutMs: READY_TIMEOUT_MS }),
      startServicesServer({ env: { ...SQLITE, ...FIRST_ADMIN }, readyTimeoutMs: READY_TIMEOUT_MS }),
    ]);
    for (const user of ["alice", "bob"]) await source.addUser(user);
    await using alice = await source.connect("alice");
    await alice.setRosterItem(`bob@${DOMAIN}`, "Bob");
    await alice.send(`bob@${DOMAIN}`, OFFLINE_BODY); // bob is offline
    expect(await alice.archivedBodies()).toEqual([OFFLINE_BODY]);
  }, 400_000);

  afterAll(async () => {
    await source?.[Symbol.asyncDispose]();
    await fresh?.[Symbol.asyncDispose]();
    rmSync(backups, { recursive: true, force: true });
  });

  it("should bring accounts, roster, offline message and archive from the SQLite database into a fresh SQLite-backed container", async () => {
    const backup = await shellCommand(`docker exec ${source.appliance.container.id} appliance-backup > ${archive}`);
    expect(backup.stderr).toMatch(/^appliance-backup: \d+ stores exported from SQLite3 \/var\/lib\/prosody\/\S+ \(prosody-migrator\)\nappliance-backup: \d+ files from conference\.example\.org,example\.org,\S* \(storage sqlite, /);
    expect(backup.status).toBe(0);
    const manifest = JSON.parse((await shellCommand(`tar -xzOf ${archive} manifest.json`)).stdout) as Record<string, unknown>;
    expect(manifest).toMatchObject({ storage: "sqlite", counts: { accounts: 2, roster: 1, offline: 1, archive: 2 } }); // archive: alice sent, bob received

    const restore = await shellCommand(`docker exec -i ${fresh.appliance.container.id} appliance-restore < ${archive}`);
    expect(restore.stderr).toMatch(
      /^appliance-restore: \d+ stores imported into SQLite3 \/var\/lib\/prosody\/\S+ \(prosody-migrator\)\nappliance-restore: restored \d+ files from the backup of \S+ \(appliance .+, Prosody 13\.[^,]+, storage sqlite\) into storage sqlite: .*accounts 2, .*offline 1, .*roster 1/,
    );
    expect(restore.status).toBe(0);

    const login = (username: string) =>
      connectClient({ port: fresh.appliance.port(5222), mode: "starttls", domain: DOMAIN, username, password: source.passwordOf(username), caPem: fresh.caPem });
    await using bob = await login("bob");
    expect((await bob.waitForMessage(`alice@${DOMAIN}`)).body).toBe(OFFLINE_BODY);
    await using alice = await login("alice");
    expect(await alice.roster()).toEqual(new Map([[`bob@${DOMAIN}`, "Bob"]]));
    expect(await alice.archivedBodies()).toEqual([OFFLINE_BODY]);
    // The data went into the fresh server's database, not beside it as files.
    expect((await fresh.appliance.exec(["sh", "-c", "ls /var/lib/prosody/example%2eorg 2>&1 || true"])).stdout).not.toMatch(/accounts|roster|offline/);
  }, 200_000);
});
