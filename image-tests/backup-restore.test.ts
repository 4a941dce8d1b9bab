import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestVolume, removeTestVolume, startAppliance, type Appliance } from "./helpers/appliance.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";
import { joinRoom, queryArchive, sendGroupMessage, waitForGroupMessage } from "../test-support/xmpp/muc.js";
import { DOMAIN, startServicesServer, type ServicesServer } from "../test-support/services-server.js";
import { IMAGE, TEST_LABEL } from "../test-support/docker-engine.js";
import { shellCommand } from "../test-support/shell-command.js";

const ROOM = `lounge@conference.${DOMAIN}`;
/** A fresh server still counts as empty with the account its first start created. */
const FIRST_ADMIN = { XMPP_ADMINS: `admin@${DOMAIN}`, XMPP_ADMIN_PASSWORD: "pw-first-admin" };
/** Three servers start at once in this file: more than one start's time on a busy machine. */
const READY_TIMEOUT_MS = 150_000;

/** The data volume's files with size, mode and time: equal listings mean nothing was changed. */
async function dataListing(appliance: Pick<Appliance, "exec">): Promise<string> {
  const listed = await appliance.exec(["sh", "-c", "cd /var/lib/prosody && find . -printf '%P %y %s %m %u %T@\\n' | LC_ALL=C sort"]);
  if (listed.exitCode !== 0) throw new Error(`listing the data volume failed: ${listed.stderr}`);
  return listed.stdout;
}

describe("backup and restore (appliance-backup, appliance-restore)", () => {
  // The host directory a user mounts at /backups, and the archive the README's command writes.
  const backups = mkdtempSync(join(tmpdir(), "appliance-backups-"));
  chmodSync(backups, 0o755);
  const archive = join(backups, "xmpp-backup.tar.gz");
  const volume = `appliance-test-restore-${process.pid}-${Date.now().toString(36)}`;
  let source: ServicesServer;
  let fresh: ServicesServer;

  // A server with one account of its own on a named volume, stopped: what --force replaces.
  async function prepareStoppedServer(): Promise<void> {
    await createTestVolume(volume);
    await using other = await startAppliance({ env: { XMPP_DOMAINS: DOMAIN }, dataVolume: volume, readyTimeoutMs: READY_TIMEOUT_MS });
    const added = await other.exec(["prosodyctl", "adduser", `dave@${DOMAIN}`], { stdin: "pw-dave\npw-dave\n" });
    if (added.exitCode !== 0) throw new Error(`prosodyctl adduser dave exited ${added.exitCode}: ${added.stderr}`);
    await other.container.stop({ t: 10 });
  }

  beforeAll(async () => {
    // Independent, so started together: the backup's source, a fresh server, a stopped one.
    [source, fresh] = await Promise.all([
      startServicesServer({ binds: [`${backups}:/backups`], readyTimeoutMs: READY_TIMEOUT_MS }),
      startServicesServer({ env: FIRST_ADMIN, readyTimeoutMs: READY_TIMEOUT_MS }),
      prepareStoppedServer(),
    ]);
    for (const user of ["alice", "bob"]) await source.addUser(user);
    {
      await using alice = await source.connect("alice");
      await alice.setRosterItem(`bob@${DOMAIN}`, "Bob the builder");
      await alice.send(`bob@${DOMAIN}`, "kept for you while you were away"); // bob is offline
      await joinRoom(alice, ROOM, "Alice");
      await sendGroupMessage(alice, ROOM, "said in the room before the backup");
      await waitForGroupMessage(alice, ROOM, "said in the room before the backup");
      await alice.close();
    }
    // A link planted in the volume (by anyone who could write there) is neither followed nor stored.
    const planted = await source.appliance.exec(["ln", "-s", "/etc/shadow", "/var/lib/prosody/example%2eorg/roster/mallory.dat"]);
    if (planted.exitCode !== 0) throw new Error(`planting a link failed: ${planted.stderr}`);
    const backup = await shellCommand(`docker exec ${source.appliance.container.id} appliance-backup > ${archive}`);
    if (backup.status !== 0) throw new Error(`appliance-backup exited ${backup.status}: ${backup.stderr}`);
    expect(backup.stderr).toMatch(/^appliance-backup: not stored \(neither a file nor a directory\): example%2eorg\/roster\/mallory\.dat\nappliance-backup: \d+ files from conference\.example\.org,example\.org,.* \(storage internal, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\n$/);
  });
  afterAll(async () => {
    await source?.[Symbol.asyncDispose]();
    await fresh?.[Symbol.asyncDispose]();
    await removeTestVolume(volume);
    rmSync(backups, { recursive: true, force: true });
  });

  it("should bring accounts, roster, offline message, group chat and both archives into a fresh container (with its first admin)", async () => {
    const manifest = JSON.parse((await shellCommand(`tar -xzOf ${archive} manifest.json`)).stdout) as Record<string, unknown>;
    expect(manifest).toMatchObject({ format: "prosody-appliance-backup/1", storage: "internal", prosody_version: expect.stringMatching(/^13\./) });
    expect((await shellCommand(`tar -tzf ${archive}`)).stdout.split("\n").filter((name) => name.includes("mallory"))).toEqual([]);
    expect(manifest.counts).toMatchObject({ accounts: 2, roster: 1, offline: 1, archive: 2, config: 1, muc_log: 1 }); // archive: alice sent, bob received

    const restore = await shellCommand(`docker exec -i ${fresh.appliance.container.id} appliance-restore < ${archive}`);
    expect(restore.stderr).toMatch(/^appliance-restore: restored \d+ files from the backup of \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(appliance .+, Prosody 13\.[^,]+, storage internal\) into storage internal: .*accounts 2, .*roster 1/);
    expect(restore.status).toBe(0);

    const login = (username: string) =>
      connectClient({ port: fresh.appliance.port(5222), mode: "starttls", domain: DOMAIN, username, password: source.passwordOf(username), caPem: fresh.caPem });
    await using bob = await login("bob");
    expect((await bob.waitForMessage(`alice@${DOMAIN}`)).body).toBe("kept for you while you were away");
    await using alice = await login("alice");
    expect(await alice.roster()).toEqual(new Map([[`bob@${DOMAIN}`, "Bob the builder"]]));
    expect(await alice.archivedBodies()).toEqual(["kept for you while you were away"]);
    // The room exists already (no 201 "created"), and its archive holds what was said before.
    expect((await joinRoom(bob, ROOM, "Bob", { maxHistory: 0 })).statusCodes).not.toContain("201");
    expect((await queryArchive(bob, ROOM)).messages).toEqual([{ from: `${ROOM}/Alice`, body: "said in the room before the backup" }]);
  });

  it("should refuse a server that holds data, even --force while it runs, and change nothing", async () => {
    const before = await dataListing(source.appliance);
    const refused = await shellCommand(`docker exec -i ${source.appliance.container.id} appliance-restore < ${archive}`);
    expect(refused.stderr).toMatch(
      /^appliance-restore: this server holds data already \(\d+ files, e\.g\. [^)]+\): a restore would mix two servers' data\. Restore into a fresh container, or replace this data with --force \(the server stopped\)\n$/,
    );
    expect(refused.status).toBe(73);
    const forced = await shellCommand(`docker exec -i ${source.appliance.container.id} appliance-restore --force < ${archive}`);
    expect(forced.stderr).toBe(
      'appliance-restore: --force replaces the data of a running server, whose rooms and sessions in memory would be written back over it: stop the container, then restore in a one-off container on its volume: docker run --rm -v VOLUME:/var/lib/prosody -v "$PWD/backups:/backups" --entrypoint appliance-restore IMAGE --force /backups/FILE\n',
    );
    expect(forced.status).toBe(69);
    expect(await dataListing(source.appliance)).toBe(before);
  });

  it("should reject a truncated, corrupted or linking archive with a clear error and change nothing", async () => {
    const whole = readFileSync(archive);
    writeFileSync(join(backups, "truncated.tar.gz"), whole.subarray(0, Math.floor(whole.length / 2)));
    const corrupted = Buffer.from(whole);
    corrupted[Math.floor(whole.length / 2)]! ^= 0xff;
    writeFileSync(join(backups, "corrupted.tar.gz"), corrupted);
    // A tar whose only data member is a symbolic link to /etc/shadow (typeflag 2).
    writeFileSync(join(backups, "link.tar.gz"), gzipSync(tarWithSymlink("data/example%2eorg/accounts/root.dat", "/etc/shadow")));
    chmodSync(join(backups, "truncated.tar.gz"), 0o644);

    const before = await dataListing(source.appliance);
    const restore = (file: string) => source.appliance.exec(["appliance-restore", "--force", `/backups/${file}`]);
    const truncated = await restore("truncated.tar.gz");
    expect(truncated.stderr).toBe("appliance-restore: /backups/truncated.tar.gz is not a usable backup: the gzip stream is truncated or corrupt (unexpected end of file); nothing was changed\n");
    expect(truncated.exitCode).toBe(65);
    const damaged = await restore("corrupted.tar.gz");
    expect(damaged.stderr).toMatch(/^appliance-restore: \/backups\/corrupted\.tar\.gz is not a usable backup: (the gzip stream is truncated or corrupt \(invalid compressed data--[a-z ]+|checksums do not match: .*FAILED).*; nothing was changed\n$/);
    expect(damaged.exitCode).toBe(65);
    const link = await restore("link.tar.gz");
    expect(link.stderr).toBe("appliance-restore: /backups/link.tar.gz is not a usable backup: it holds something other than files and directories (a link or device: type 'l'); nothing was changed\n");
    expect(link.exitCode).toBe(65);
    expect(await dataListing(source.appliance)).toBe(before);
  });

  it("should replace a stopped server's data with --force in a one-off container, and keep what it replaced", async () => {
    const oneOff = await shellCommand(
      `docker run --rm --label ${TEST_LABEL}=${process.pid} -v ${volume}:/var/lib/prosody -v ${backups}:/backups --entrypoint appliance-restore ${IMAGE} --force /backups/xmpp-backup.tar.gz`,
    );
    expect(oneOff.stderr).toMatch(/^appliance-restore: the data this restore replaces \(2 files\) is kept in \/var\/lib\/prosody\/replaced-by-restore-\d{8}T\d{6}Z: delete it once you have checked the restore\nappliance-restore: restored /);
    expect(oneOff.status).toBe(0);

    await using restored = await startServicesServer({ binds: [`${volume}:/var/lib/prosody`], readyTimeoutMs: READY_TIMEOUT_MS });
    await using bob = await connectClient({ port: restored.appliance.port(5222), mode: "starttls", domain: DOMAIN, username: "bob", password: source.passwordOf("bob"), caPem: restored.caPem });
    expect((await bob.waitForMessage(`alice@${DOMAIN}`)).body).toBe("kept for you while you were away");
    const dave = await restored.appliance.exec(["sh", "-c", "ls /var/lib/prosody/example%2eorg/accounts/ /var/lib/prosody/replaced-by-restore-*/example%2eorg/accounts/"]);
    expect(dave.stdout).toMatch(/^\/var\/lib\/prosody\/example%2eorg\/accounts\/:\nalice\.dat\nbob\.dat\n\n\/var\/lib\/prosody\/replaced-by-restore-\d{8}T\d{6}Z\/example%2eorg\/accounts\/:\ndave\.dat\n$/);
  }, 300_000); // a server start, waited for up to READY_TIMEOUT_MS
});

/** A ustar archive holding one symbolic link, as a hostile or broken backup could. */
function tarWithSymlink(name: string, target: string): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, "utf8");
  header.write("0000777\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write("00000000000\0", 124);
  header.write("00000000000\0", 136);
  header.write("        ", 148);
  header.write("2", 156);
  header.write(target, 157, "utf8");
  header.write("ustar\u000000", 257, "binary");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return Buffer.concat([header, Buffer.alloc(1024)]);
}
