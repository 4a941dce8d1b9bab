import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestVolume, removeTestVolume, startAppliance, type Appliance } from "./helpers/appliance.js";
import { readmeNonRoot } from "./helpers/hardening.js";
import { letsEncryptFixture, type LetsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { allServe, servedEverywhere } from "./helpers/served-everywhere.js";
import { waitFor } from "../test-support/wait-for.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";

const DOMAIN = "example.org";
const CERTS_GID = 990;

/** Every process in the container: its uids (real, effective, saved, fs) and effective capabilities. */
const IDENTITIES = 'for s in /proc/[0-9]*/status; do awk \'/^Name:/{n=$2} /^Uid:/{u=$2" "$3" "$4" "$5} /^CapEff:/{c=$2} END{print n": uid "u", CapEff "c}\' "$s"; done 2>/dev/null';

/**
 * The README's `docker run --user 101:101` line, with keys group-readable by its --group-add
 * gid (certbot's documented group fix, done on the host) and a data volume that already
 * belongs to 101 (a new named volume gets the image's owner).
 */
function nonRoot(extra: Docker.HostConfig = {}): { user: string; hostConfig: Docker.HostConfig } {
  const { user, hostConfig } = readmeNonRoot();
  return { user: user!, hostConfig: { ...hostConfig, ...extra } };
}

let le: LetsEncryptFixture;
let appliance: Appliance;
const volume = `appliance-test-non-root-${process.pid}`;

beforeAll(async () => {
  le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN, `*.${DOMAIN}`] }]);
  expect(readmeNonRoot()).toEqual({
    user: "101:101",
    hostConfig: { CapDrop: ["ALL"], CapAdd: [], SecurityOpt: ["no-new-privileges:true"], ReadonlyRootfs: true, Tmpfs: { "/run": "uid=101,gid=101", "/tmp": "uid=101,gid=101" }, GroupAdd: [String(CERTS_GID)] },
  });
  le.tree.applyGroupFix(CERTS_GID, { dirMode: 0o750 });
  await createTestVolume(volume);
  appliance = await startAppliance({ ...nonRoot(), binds: [le.bind], dataVolume: volume });
});

afterAll(async () => {
  await appliance?.dispose();
  await removeTestVolume(volume);
  le?.[Symbol.dispose]();
});

describe("docker run --user 101:101 (no root at all)", () => {
  it("should run every process as uid 101 without any capability, skipping what needs root with a log line", async () => {
    const processes = (await appliance.exec(["sh", "-c", IDENTITIES])).stdout.trim().split("\n");
    const names = processes.map((line) => line.split(":")[0]);
    expect(names).toEqual(expect.arrayContaining(["tini", "node", "lua5.4", "turnserver"]));
    for (const line of processes) expect(line).toMatch(/: uid 101 101 101 101, CapEff 0+$/);

    const logs = await appliance.logs();
    expect(logs).toContain("certs group: not changed, which needs root; running as uid 101, gids 101,990 (docker run --user), Prosody reads keys with these groups (add one with --group-add)");
    expect(logs).toContain("/var/lib/prosody belongs to prosody");
    expect(logs).toContain(`certificate for ${DOMAIN}: /etc/letsencrypt/live/${DOMAIN}/fullchain.pem`);
    expect(logs).toContain("grant key access: 4 mounted, 0 self-signed");
    expect(logs).toMatch(/start Prosody: pid \d+, started with the container/);
    expect(logs).toContain("read in-place");
    expect(logs).not.toMatch(/turn ERROR/);
  });

  it("should log a verified client in and serve a certbot renewal on every port without dropping it", async () => {
    const added = await appliance.exec(["prosodyctl", "adduser", `alice@${DOMAIN}`], { stdin: "pw-alice\npw-alice\n" });
    expect(added.exitCode, added.stdout + added.stderr).toBe(0);
    const caPem = le.ca.root.certPem;
    await using alice = await connectClient({ port: appliance.port(5222), mode: "starttls", domain: DOMAIN, username: "alice", password: "pw-alice", caPem });
    const oldSerial = le.tree.serial(DOMAIN);
    expect(await servedEverywhere(appliance, DOMAIN)).toEqual(allServe(oldSerial));

    const renewed = await le.tree.renew(DOMAIN, { delayMs: 50 });
    await waitFor("every port to serve the renewed certificate", async () => {
      const served = await servedEverywhere(appliance, DOMAIN);
      return Object.values(served).every((serial) => serial === renewed.serial) && served;
    }, { timeoutMs: 10_000, intervalMs: 200 });
    expect(alice.wasDropped()).toBe(false);
    await using again = await connectClient({ port: appliance.port(5223), mode: "direct-tls", domain: DOMAIN, username: "alice", password: "pw-alice", caPem, resource: "again" });
    expect(again.isOnline()).toBe(true);
  });

  it("should refuse a data volume owned by root with exit 78, naming the path, its owner and mode, and the fix", async () => {
    const hostDir = mkdtempSync(join(tmpdir(), "appliance-root-data-"));
    chmodSync(hostDir, 0o755);
    try {
      await using refused = await startAppliance({ ...nonRoot(), binds: [`${hostDir}:/var/lib/prosody`], waitUntil: "started" });
      expect(await refused.exited()).toBe(78);
      expect(await refused.logs()).toContain(
        "/var/lib/prosody is 0755 0:0, not owned and writable by uid 101, and without root (docker run --user) the entrypoint cannot take it over. " +
          "Accepted: a data volume owned by 101:101 (e.g. chown -R 101:101 on the volume's host directory), or running as root (no --user), which takes it over.",
      );
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  it("should refuse a /run tmpfs it cannot write with exit 78, saying how to give it to uid 101", async () => {
    await using refused = await startAppliance({ ...nonRoot({ Tmpfs: { "/run": "", "/tmp": "uid=101,gid=101" } }), waitUntil: "started" });
    expect(await refused.exited()).toBe(78);
    expect(await refused.logs()).toContain(
      "/run/prosody-appliance cannot be created by uid 101, gids 101,990 (docker run --user): the generated Prosody configuration is written there. " +
        'Accepted: a tmpfs at /run that this uid owns, e.g. --tmpfs /run:uid=101,gid=101 (compose: tmpfs: ["/run:uid=101,gid=101"]), or running as root (no --user).',
    );
  });
});
