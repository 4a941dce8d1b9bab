import { X509Certificate } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startAppliance, type Appliance } from "./helpers/appliance.js";
import { allServe, servedEverywhere, servedForServices, untilServedEverywhere } from "./helpers/served-everywhere.js";
import { writeSecretVolume } from "../test-support/secret-volume.js";
import { createTestCa } from "../test-support/test-ca.js";
import { sleep, waitFor } from "../test-support/wait-for.js";
import { connectClient, type XmppTestClient } from "../test-support/xmpp/connect-client.js";

const DOMAIN = "example.org";
/** Where deploy/kubernetes mounts the cert-manager Secret, and what it sets XMPP_CERTS_DIR to. */
const MOUNT = "/etc/xmpp-tls";

async function chat(from: XmppTestClient, to: XmppTestClient, body: string) {
  await from.send(to.jid.split("/")[0]!, body);
  expect((await to.waitForMessage((m) => m.body === body)).body).toBe(body);
}

describe("a cert-manager Secret mounted as a directory, updated the way kubelet does", () => {
  it("should serve the new certificate on every listener, seen from the ..data rename alone, with no session dropped", async () => {
    const ca = createTestCa();
    const volume = mkdtempSync(join(tmpdir(), "secret-volume-"));
    chmodSync(volume, 0o755);
    try {
      const names = [DOMAIN, `*.${DOMAIN}`];
      const first = ca.issueLeaf(names);
      // cert-manager with an ACME issuer: tls.crt is leaf + chain, ca.crt empty; as deploy/kubernetes
      // mounts it: defaultMode 0440, fsGroup 101 (Prosody's group, so it could read the key in place).
      const secret = { mode: 0o440, gid: 101 };
      writeSecretVolume(volume, { "tls.crt": first.fullchainPem, "tls.key": first.keyPem, "ca.crt": "" }, secret);

      // A day between re-checks: only the watcher can notice the update within the wait below.
      await using appliance: Appliance = await startAppliance({
        env: { XMPP_CERTS_DIR: MOUNT, XMPP_CERTS_RECHECK_INTERVAL: "24h" },
        binds: [`${volume}:${MOUNT}:ro`],
      });
      for (const user of ["alice", "bob"]) {
        const added = await appliance.exec(["prosodyctl", "adduser", `${user}@${DOMAIN}`], { stdin: `pw-${user}\npw-${user}\n` });
        expect(added.exitCode, added.stdout + added.stderr).toBe(0);
      }
      expect(await servedEverywhere(appliance, DOMAIN)).toEqual(allServe(first.serial));
      const caPem = ca.root.certPem;
      await using alice = await connectClient({ port: appliance.port(5222), mode: "starttls", domain: DOMAIN, username: "alice", password: "pw-alice", caPem });
      await using bob = await connectClient({ port: appliance.port(5223), mode: "direct-tls", domain: DOMAIN, username: "bob", password: "pw-bob", caPem });

      let chatting = true;
      let exchanged = 0;
      const chatter = (async () => {
        while (chatting) {
          await chat(alice, bob, `during the update ${exchanged}`);
          await chat(bob, alice, `reply ${exchanged++}`);
          await sleep(50);
        }
      })();

      const renewed = ca.issueLeaf(names);
      const version = writeSecretVolume(volume, { "tls.crt": renewed.fullchainPem, "tls.key": renewed.keyPem, "ca.crt": "" }, secret);
      // What kubelet leaves: one version directory, ..data pointing at it, the three visible links.
      expect(readdirSync(volume).sort()).toEqual([version, "..data", "ca.crt", "tls.crt", "tls.key"].sort());

      // Well under the day between re-checks, with room for a machine loaded by other work.
      await untilServedEverywhere(appliance, DOMAIN, renewed.serial, 15_000);
      chatting = false;
      await chatter;
      const services = await servedForServices(appliance, DOMAIN);
      expect(Object.values(services)).toEqual(Object.keys(services).map(() => renewed.serial));

      expect(exchanged).toBeGreaterThan(0);
      expect(alice.wasDropped()).toBe(false);
      expect(bob.wasDropped()).toBe(false);
      await chat(alice, bob, "after the update");
      // Logged once the entrypoint has seen the new certificate on every listener itself, which
      // may be a moment after this test's own probes did.
      const renewedLine = `certificate for ${DOMAIN} renewed: serial ${first.serial} -> ${renewed.serial}, expires ${new Date(new X509Certificate(renewed.certPem).validTo).toISOString()} (${MOUNT}/tls.crt, private-copy)`;
      await waitFor("the renewal to be logged", async () => (await appliance.logs()).includes(renewedLine), { timeoutMs: 15_000 });
      expect(await appliance.logs()).not.toContain("not used");
    } finally {
      rmSync(volume, { recursive: true, force: true });
    }
  });
});
