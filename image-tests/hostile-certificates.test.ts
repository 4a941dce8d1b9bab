import { execFileSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppliance, type Appliance } from "./helpers/appliance.js";
import { letsEncryptFixture, type LetsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { allServe, servedEverywhere } from "./helpers/served-everywhere.js";
import { waitFor } from "../test-support/wait-for.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";

const DOMAIN = "example.org";
const DAY_MS = 86_400_000;
const LIVE = `live/${DOMAIN}`;

/** A PEM block that never ends, just under the 1 MiB read limit: parsed in linear time or not at all. */
const UNTERMINATED_PEM = `-----BEGIN CERTIFICATE-----\n${"QUJD".repeat(16).concat("\n").repeat(14_000)}`;

interface HostileChange {
  name: string;
  /** Changes the tree under `root` as an attacker or a broken tool would; the live links are `root/live/example.org`. */
  apply(le: LetsEncryptFixture): Promise<void> | void;
  /** What the refusal names, after "certificate for example.org not used: ". */
  refusal: RegExp;
}

/** Puts `make(tmp)`'s result in place of live/example.org/<kind>.pem in one rename, as certbot's links change. */
function replaceLive(le: LetsEncryptFixture, kind: "fullchain" | "privkey", make: (tmp: string) => void): void {
  const tmp = join(le.tree.root, LIVE, `.hostile-${kind}`);
  rmSync(tmp, { recursive: true, force: true });
  make(tmp);
  const live = join(le.tree.root, LIVE, `${kind}.pem`);
  // rename(2) puts a directory only where nothing is, and a file only where no directory is.
  if (lstatSync(tmp).isDirectory() || lstatSync(live, { throwIfNoEntry: false })?.isDirectory()) rmSync(live, { recursive: true, force: true });
  renameSync(tmp, live);
}

function pointLiveAt(le: LetsEncryptFixture, kind: "fullchain" | "privkey", target: string): void {
  replaceLive(le, kind, (tmp) => symlinkSync(target, tmp));
}

const CHANGES: HostileChange[] = [
  { name: "a FIFO", apply: (le) => replaceLive(le, "fullchain", (tmp) => execFileSync("mkfifo", [tmp])), refusal: /fullchain\.pem: is a FIFO, not a regular file/ },
  { name: "a link to /dev/zero", apply: (le) => pointLiveAt(le, "fullchain", "/dev/zero"), refusal: /fullchain\.pem \(\/dev\/zero\): is a character device, not a regular file/ },
  {
    name: "a sparse 2 GiB file",
    apply: (le) =>
      replaceLive(le, "fullchain", (tmp) => {
        writeFileSync(tmp, "");
        truncateSync(tmp, 2 * 1024 ** 3);
      }),
    refusal: /fullchain\.pem: cannot be read \(larger than 1 MiB \(2147483648 bytes\)\)/,
  },
  { name: "a link loop", apply: (le) => pointLiveAt(le, "fullchain", "fullchain.pem"), refusal: /fullchain\.pem: cannot be opened \(ELOOP: too many symbolic links encountered/ },
  { name: "a link to /", apply: (le) => pointLiveAt(le, "fullchain", "/"), refusal: /fullchain\.pem \(\/\): is a directory, not a regular file/ },
  {
    name: "an unreadable directory",
    apply: (le) =>
      replaceLive(le, "fullchain", (tmp) => {
        mkdirSync(tmp);
        chmodSync(tmp, 0);
      }),
    refusal: /fullchain\.pem: is a directory, not a regular file/,
  },
  {
    name: "an unterminated PEM block",
    apply: (le) => replaceLive(le, "fullchain", (tmp) => writeFileSync(tmp, UNTERMINATED_PEM)),
    refusal: /fullchain\.pem: is truncated: certificate 1 has no END line/,
  },
  { name: "a key for another certificate", apply: async (le) => void (await le.tree.renew(DOMAIN, { variant: "mismatched-key", delayMs: 0 })), refusal: /privkey\.pem \(\/etc\/letsencrypt\/archive\/example\.org\/privkey\d+\.pem\): does not match the certificate/ },
  {
    name: "a certificate not valid yet",
    apply: (le) => {
      const leaf = le.ca.issueLeaf([DOMAIN], { notBefore: new Date(Date.now() + DAY_MS), notAfter: new Date(Date.now() + 90 * DAY_MS) });
      const archive = join(le.tree.root, "archive", DOMAIN);
      writeFileSync(join(archive, "fullchain-future.pem"), leaf.fullchainPem);
      writeFileSync(join(archive, "privkey-future.pem"), leaf.keyPem, { mode: 0o600 });
      pointLiveAt(le, "privkey", `../../archive/${DOMAIN}/privkey-future.pem`);
      pointLiveAt(le, "fullchain", `../../archive/${DOMAIN}/fullchain-future.pem`);
    },
    refusal: /fullchain-future\.pem\): is not valid yet: valid from /,
  },
  { name: "an expired certificate", apply: async (le) => void (await le.tree.renew(DOMAIN, { variant: "expired", delayMs: 0 })), refusal: /fullchain\d+\.pem\): expired on / },
];

/** Back to the first (good) issuance: both links re-pointed, as a fixed certbot run would. */
function restoreGood(le: LetsEncryptFixture): void {
  pointLiveAt(le, "privkey", `../../archive/${DOMAIN}/privkey1.pem`);
  pointLiveAt(le, "fullchain", `../../archive/${DOMAIN}/fullchain1.pem`);
}

async function refusalAfter(appliance: Appliance, logged: number, refusal: RegExp): Promise<string> {
  const found = waitFor(
    `a refusal matching ${refusal} to be logged`,
    async () =>
      (await appliance.logs())
        .slice(logged)
        .split("\n")
        .find((line) => line.startsWith(`appliance error certificate for ${DOMAIN} not used: `) && refusal.test(line)),
    { timeoutMs: 10_000, intervalMs: 100 },
  );
  return found.catch(async (error: Error) => {
    throw new Error(`${error.message}\nthe entrypoint said meanwhile:\n${(await appliance.logs()).slice(logged)}`);
  });
}

describe("a hostile change to a served certificate's files", () => {
  let le: LetsEncryptFixture;
  let appliance: Appliance;
  let goodSerial: string;

  beforeAll(async () => {
    le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }]);
    appliance = await startAppliance({ binds: [le.bind] });
    goodSerial = le.tree.serial(DOMAIN);
    // Ready before the watcher: a change made sooner waits for the periodic re-check (5 min).
    await waitFor("certificates to be watched", async () => (await appliance.logs()).includes("appliance info  watch certificates: "));
    const added = await appliance.exec(["prosodyctl", "adduser", `alice@${DOMAIN}`], { stdin: "pw-alice\npw-alice\n" });
    expect(added.exitCode, added.stdout + added.stderr).toBe(0);
    expect(await servedEverywhere(appliance, DOMAIN)).toEqual(allServe(goodSerial));
  });

  afterAll(async () => {
    await appliance?.dispose();
    le?.[Symbol.dispose]();
  });

  it.each(CHANGES.map((change) => [change.name, change] as const))(
    "should refuse %s within seconds, saying so, and keep serving the good certificate",
    async (_, change) => {
      const logged = (await appliance.logs()).length;
      await change.apply(le);
      // The file event is not enough: chokidar misses some of these replacements made within a
      // second or so of another change (seen: about one in three), leaving them to the periodic
      // re-check (5 min). SIGHUP is the documented "check now", and reloads Prosody on top.
      await appliance.container.kill({ signal: "SIGHUP" });
      const line = await refusalAfter(appliance, logged, change.refusal);
      expect(line).toContain(`still serving serial ${goodSerial}`);
      expect(await servedEverywhere(appliance, DOMAIN)).toEqual(allServe(goodSerial));
      restoreGood(le);
    },
  );

  it("should take 10,000 files beside its certificate in its stride", async () => {
    const lineage = join(le.tree.root, LIVE);
    for (let n = 0; n < 10_000; n++) writeFileSync(join(lineage, `junk-${n}.pem`), "not a certificate\n");
    try {
      const logged = (await appliance.logs()).length;
      await appliance.container.kill({ signal: "SIGHUP" });
      // The check went through: Prosody was told to reload.
      await waitFor("Prosody to reload after SIGHUP", async () => (await appliance.logs()).slice(logged).includes("Reloading configuration file"), { timeoutMs: 30_000 });
      expect(await servedEverywhere(appliance, DOMAIN)).toEqual(allServe(goodSerial));
    } finally {
      for (let n = 0; n < 10_000; n++) rmSync(join(lineage, `junk-${n}.pem`));
    }
  });

  it("should still be running, with its accounts, after every change", async () => {
    expect((await appliance.container.inspect()).State.Running).toBe(true);
    await using alice = await connectClient({ port: appliance.port(5222), mode: "starttls", domain: DOMAIN, username: "alice", password: "pw-alice", caPem: le.ca.root.certPem });
    expect(alice.jid).toMatch(new RegExp(`^alice@${DOMAIN}/`));
  });
});
