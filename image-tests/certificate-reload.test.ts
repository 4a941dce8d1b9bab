import { describe, expect, it } from "vitest";
import { startAppliance, type Appliance } from "./helpers/appliance.js";
import { letsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { allServe, servedEverywhere, servedForServices } from "./helpers/served-everywhere.js";
import { sleep, waitFor } from "../test-support/wait-for.js";
import { connectClient, type XmppTestClient } from "../test-support/xmpp/connect-client.js";
import { starttlsOffered } from "../test-support/xmpp/starttls-offered.js";

const DOMAIN = "example.org";

async function addUsers(appliance: Appliance, ...users: string[]) {
  for (const user of users) {
    const result = await appliance.exec(["prosodyctl", "adduser", `${user}@${DOMAIN}`], { stdin: `pw-${user}\npw-${user}\n` });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
  }
}

async function chat(from: XmppTestClient, to: XmppTestClient, body: string) {
  await from.send(to.jid.split("/")[0]!, body);
  expect((await to.waitForMessage((m) => m.body === body)).body).toBe(body);
}

describe.each([
  { mount: "read-only", readOnly: true },
  { mount: "writable", readOnly: false },
])("a certbot renewal on a $mount mount", ({ readOnly }) => {
  it("should serve the new certificate on every port while connected clients keep chatting", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN, `*.${DOMAIN}`] }], { readOnly });
    await using appliance = await startAppliance({ binds: [le.bind] });
    await addUsers(appliance, "alice", "bob");
    const caPem = le.ca.root.certPem;
    await using alice = await connectClient({ port: appliance.port(5222), mode: "starttls", domain: DOMAIN, username: "alice", password: "pw-alice", caPem });
    await using bob = await connectClient({ port: appliance.port(5223), mode: "direct-tls", domain: DOMAIN, username: "bob", password: "pw-bob", caPem });
    const oldSerial = le.tree.serial(DOMAIN);
    expect(await servedEverywhere(appliance, DOMAIN)).toEqual(allServe(oldSerial));
    // The wildcard covers conference., upload. and proxy.: they follow the renewal too.
    const services = Object.keys(await servedForServices(appliance, DOMAIN));
    expect(Object.values(await servedForServices(appliance, DOMAIN))).toEqual(services.map(() => oldSerial));

    let chatting = true;
    let exchanged = 0;
    const chatter = (async () => {
      while (chatting) {
        await chat(alice, bob, `during renewal ${exchanged}`);
        await chat(bob, alice, `reply ${exchanged++}`);
        await sleep(50);
      }
    })();

    const renewed = await le.tree.renew(DOMAIN, { delayMs: 50 });
    await waitFor("every port to serve the renewed certificate", async () => {
      const served = await servedEverywhere(appliance, DOMAIN);
      return Object.values(served).every((serial) => serial === renewed.serial) && served;
    }, { timeoutMs: 5_000, intervalMs: 100 });
    chatting = false;
    await chatter;
    expect(await servedForServices(appliance, DOMAIN)).toEqual(Object.fromEntries(services.map((label) => [label, renewed.serial])));

    expect(exchanged).toBeGreaterThan(0);
    expect(alice.wasDropped()).toBe(false);
    expect(bob.wasDropped()).toBe(false);
    await chat(alice, bob, "after the renewal");
    await waitFor("the renewal to be logged", async () =>
      (await appliance.logs()).includes(`certificate for ${DOMAIN} renewed: serial ${oldSerial} -> ${renewed.serial}`));
  });

  it("should keep serving the old certificate through bad renewals, then take the next good one", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }], { readOnly });
    await using appliance = await startAppliance({ binds: [le.bind] });
    const goodSerial = le.tree.serial(DOMAIN);

    for (const variant of ["mismatched-key", "expired", "truncated"] as const) {
      const bad = await le.tree.renew(DOMAIN, { variant });
      const badFile = `/etc/letsencrypt/${bad.badFile}`;
      const logLine = await waitFor(`an error naming ${badFile} after a ${variant} renewal`, async () =>
        (await appliance.logs()).split("\n").find((line) => line.includes(`certificate for ${DOMAIN} not used`) && line.includes(badFile)),
      { timeoutMs: 5_000 });
      expect(logLine).toContain(`still serving serial ${goodSerial}`);
      expect(await servedEverywhere(appliance, DOMAIN), `after a ${variant} renewal`).toEqual(allServe(goodSerial));
      expect(await starttlsOffered({ port: appliance.port(5222), domain: DOMAIN })).toBe(true);
    }

    const good = await le.tree.renew(DOMAIN);
    await waitFor("the next good renewal to be served", async () =>
      Object.values(await servedEverywhere(appliance, DOMAIN)).every((s) => s === good.serial), { timeoutMs: 5_000 });
  });
});

describe("a certificate that appears after startup", () => {
  it("should replace the self-signed one on every port without a restart", async () => {
    using le = letsEncryptFixture([]);
    await using appliance = await startAppliance({ binds: [le.bind] });
    const selfSigned = await servedEverywhere(appliance, DOMAIN);
    expect(new Set(Object.values(selfSigned)).size).toBe(1);

    const issued = await le.tree.addLineage({ name: DOMAIN, names: [DOMAIN] });
    await waitFor("the first issued certificate to be served everywhere", async () =>
      Object.values(await servedEverywhere(appliance, DOMAIN)).every((s) => s === issued.serial), { timeoutMs: 5_000 });
    await waitFor("the switch to be logged", async () =>
      (await appliance.logs()).includes(`certificate for ${DOMAIN} renewed: serial ${Object.values(selfSigned)[0]} -> ${issued.serial}`));
  });
});

describe("polling for bind mounts without inotify (XMPP_CERTS_POLLING=yes)", () => {
  it("should pick up a renewal", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }]);
    await using appliance = await startAppliance({ env: { XMPP_CERTS_POLLING: "yes" }, binds: [le.bind] });
    await waitFor("certificates to be watched by polling", async () => (await appliance.logs()).includes("watch certificates: /etc/letsencrypt (polling)"));
    const renewed = await le.tree.renew(DOMAIN);
    await waitFor("the renewal to be served", async () =>
      Object.values(await servedEverywhere(appliance, DOMAIN)).every((s) => s === renewed.serial), { timeoutMs: 8_000 });
  });
});
