import { describe, expect, it } from "vitest";
import { prosodyPid, startAppliance, type Appliance } from "./helpers/appliance.js";
import { letsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { allServe, servedEverywhere } from "./helpers/served-everywhere.js";
import { snapshotTree, treeChanges } from "./helpers/tree-snapshot.js";
import { waitFor } from "../test-support/wait-for.js";

const DOMAIN = "example.org";

/** Prosody's supplementary groups, as the kernel sees them. */
async function prosodyGroups(appliance: Appliance): Promise<string[]> {
  const status = await appliance.exec(["cat", `/proc/${await prosodyPid(appliance)}/status`]);
  const groups = /^Groups:(.*)$/m.exec(status.stdout);
  if (!groups) throw new Error(`no Groups: line in Prosody's /proc status: ${status.stdout}${status.stderr}`);
  return groups[1]!.trim().split(/\s+/);
}

/**
 * Key files under the given dirs that others may read (keys must never be), one path a line.
 * No shell: find gets its arguments as they are, and a find that fails fails the test.
 */
async function worldReadableKeys(appliance: Appliance, ...dirs: string[]): Promise<string> {
  const result = await appliance.exec(["find", ...dirs, "-type", "f", "(", "-name", "*.key", "-o", "-name", "privkey*", ")", "-perm", "-o=r"]);
  if (result.exitCode !== 0) throw new Error(`find ${dirs.join(" ")} failed (exit ${result.exitCode}): ${result.stderr}`);
  return result.stdout.trim();
}

async function renewAndWait(appliance: Appliance, le: ReturnType<typeof letsEncryptFixture>) {
  const renewed = await le.tree.renew(DOMAIN);
  await waitFor("the renewed certificate on every port", async () =>
    JSON.stringify(await servedEverywhere(appliance, DOMAIN)) === JSON.stringify(allServe(renewed.serial)), { timeoutMs: 5_000 });
}

describe("the certs group", () => {
  it("should change nothing on a read-only mount of certbot's defaults, serving a private copy instead", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }], { readOnly: true });
    const before = snapshotTree(le.tree.root);
    await using appliance = await startAppliance({ binds: [le.bind] });

    expect(await servedEverywhere(appliance, DOMAIN)).toEqual(allServe(le.tree.serial(DOMAIN)));
    expect(await appliance.logs()).toMatch(/the mount is read-only, so Prosody reads a private copy of example\.org's pair in \/dev\/shm\/prosody-appliance-keys/);
    const copy = await appliance.exec(["sh", "-c", "stat -c '%a %U:%G' /dev/shm/prosody-appliance-keys /dev/shm/prosody-appliance-keys/*.key"]);
    expect(copy.stdout.trim().split("\n")).toEqual(["750 root:prosody", "640 root:prosody"]);
    await renewAndWait(appliance, le);

    expect(treeChanges(before, snapshotTree(le.tree.root)).filter((c) => !c.includes("(none)"))).toEqual([]);
    expect(await worldReadableKeys(appliance, "/etc/letsencrypt", "/dev/shm", "/var/lib/prosody")).toBe("");
  });

  it("should change nothing on a writable mount when XMPP_CERTS_GID is auto (990 may be a real host group)", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }], { readOnly: false });
    const before = snapshotTree(le.tree.root);
    await using appliance = await startAppliance({ binds: [le.bind] });

    expect(await servedEverywhere(appliance, DOMAIN)).toEqual(allServe(le.tree.serial(DOMAIN)));
    expect(treeChanges(before, snapshotTree(le.tree.root))).toEqual([]);
    expect(await appliance.logs()).toMatch(/XMPP_CERTS_GID is auto, which never changes your mount, so Prosody reads a private copy of example\.org's pair/);
  });

  it("should apply only certbot's documented group fix on a writable mount when XMPP_CERTS_GID is set, and read keys in place", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }], { readOnly: false });
    const before = snapshotTree(le.tree.root);
    await using appliance = await startAppliance({ binds: [le.bind], env: { XMPP_CERTS_GID: "990" } });

    expect(treeChanges(before, snapshotTree(le.tree.root))).toEqual([
      "archive: 0700 0:0 -> 0750 0:990",
      `archive/${DOMAIN}/privkey1.pem: 0600 0:0 -> 0640 0:990`,
      "live: 0700 0:0 -> 0750 0:990",
    ]);
    expect(await prosodyGroups(appliance)).toEqual(["101", "990"]);
    expect(await appliance.logs()).toContain(`certificate for ${DOMAIN}: /etc/letsencrypt/live/${DOMAIN}/fullchain.pem`);
    expect(await appliance.logs()).toMatch(/read group-fix/);

    // certbot keeps the key's group and group bits on renewal: the next key is read in place as is.
    await renewAndWait(appliance, le);
    const renewedInPlace = new RegExp(`certificate for ${DOMAIN} renewed: .*\\(/etc/letsencrypt/live/${DOMAIN}/fullchain.pem, in-place\\)`);
    await waitFor("the renewal to be logged as read in place", async () => renewedInPlace.test(await appliance.logs()));
    expect(await worldReadableKeys(appliance, "/etc/letsencrypt", "/var/lib/prosody")).toBe("");
  });

  it("should take the group that owns the keys, like the HOWTO's certs group, and change nothing", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }], { readOnly: false });
    le.tree.applyGroupFix(4321, { dirMode: 0o750 });
    const before = snapshotTree(le.tree.root);
    await using appliance = await startAppliance({ binds: [le.bind] });

    expect(await prosodyGroups(appliance)).toEqual(["101", "4321"]);
    if ((await appliance.container.inspect()).HostConfig.ReadonlyRootfs) {
      // A read-only root keeps /etc/group as built: said once, and Prosody has the gid all the same.
      expect(await appliance.logs()).toContain("could not give the certs group gid 4321 (");
    } else {
      expect((await appliance.exec(["getent", "group", "certs"])).stdout).toMatch(/^certs:x:4321:prosody/);
    }
    expect(treeChanges(before, snapshotTree(le.tree.root))).toEqual([]);
    expect(await servedEverywhere(appliance, DOMAIN)).toEqual(allServe(le.tree.serial(DOMAIN)));
  });

  it("should report a key file that others can read (the check above can fail)", async () => {
    await using appliance = await startAppliance();
    expect(await worldReadableKeys(appliance, "/dev/shm", "/var/lib/prosody")).toBe("");
    const planted = await appliance.exec(["install", "-m", "0644", "/dev/null", "/var/lib/prosody/planted.key"]);
    expect(planted.exitCode, planted.stderr).toBe(0);
    expect(await worldReadableKeys(appliance, "/dev/shm", "/var/lib/prosody")).toBe("/var/lib/prosody/planted.key");
  });
});
