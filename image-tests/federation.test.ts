import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppliance, type Appliance } from "./helpers/appliance.js";
import { createCertbotTree, type CertbotTree } from "../test-support/certbot-tree.js";
import { TEST_LABELS, docker } from "../test-support/docker-engine.js";
import { createTestCa, type TestCa } from "../test-support/test-ca.js";
import { waitFor } from "../test-support/wait-for.js";
import { connectClient, type XmppTestClient } from "../test-support/xmpp/connect-client.js";

/**
 * What a user federating with servers whose certificates come from a private CA does: mount
 * the CA's root and one conf.d line. `s2s_ssl` is merged field by field over the global `ssl`
 * the appliance writes (certmanager applies host s2s_ssl > host ssl > global s2s_ssl > global
 * ssl > defaults), so only `cafile` changes: the served certificate and key stay the
 * appliance's, and the system CAs in the default `capath` stay trusted.
 */
const TRUST_CONFIG = 's2s_ssl = { cafile = "/etc/prosody/conf.d/private-ca.pem" }\n';

const PASSWORD = "federation-secret";

describe("federation between appliances whose certificates come from one private CA", () => {
  let ca: TestCa;
  let network: Docker.Network;
  const trees: CertbotTree[] = [];
  const servers = new Map<string, Appliance>();
  let confDir: string;

  /** The one user each server gets. */
  const userOf = (domain: string) => ({ "example.org": "alice", "example.net": "bob", "example.com": "carol" })[domain] ?? "user";

  /** A server for `domain` on the test network, reachable by the other servers as `domain`. */
  async function startServer(domain: string, { trustPrivateCa }: { trustPrivateCa: boolean }): Promise<Appliance> {
    const tree = createCertbotTree(ca, [{ name: domain, names: [domain] }]);
    trees.push(tree);
    const appliance = await startAppliance({
      env: { XMPP_DOMAINS: domain },
      binds: [`${tree.root}:/etc/letsencrypt:ro`, ...(trustPrivateCa ? [`${confDir}:/etc/prosody/conf.d:ro`] : [])],
      network: { name: network.id, aliases: [domain] },
    });
    servers.set(domain, appliance);
    const added = await appliance.exec(["prosodyctl", "adduser", `${userOf(domain)}@${domain}`], { stdin: `${PASSWORD}\n${PASSWORD}\n` });
    expect(added.exitCode, added.stdout + added.stderr).toBe(0);
    return appliance;
  }

  function login(domain: string): Promise<XmppTestClient> {
    const server = servers.get(domain);
    if (!server) throw new Error(`no server for ${domain}`);
    return connectClient({ port: server.port(5222), mode: "starttls", domain, username: userOf(domain), password: PASSWORD, caPem: ca.root.certPem });
  }

  const logsOf = (domain: string) => servers.get(domain)!.logs();

  beforeAll(async () => {
    ca = createTestCa("federation test");
    confDir = mkdtempSync(join(tmpdir(), "conf.d-"));
    chmodSync(confDir, 0o755);
    writeFileSync(join(confDir, "private-ca.cfg.lua"), TRUST_CONFIG, { mode: 0o644 });
    writeFileSync(join(confDir, "private-ca.pem"), ca.root.certPem, { mode: 0o644 });
    network = await docker.createNetwork({ Name: `appliance-federation-${process.pid}-${Date.now().toString(36)}`, Labels: TEST_LABELS });
    // example.org and example.net trust the private CA; example.com is the image as it comes.
    // allSettled: afterAll must find every container that started, even when one did not.
    const started = await Promise.allSettled([
      startServer("example.org", { trustPrivateCa: true }),
      startServer("example.net", { trustPrivateCa: true }),
      startServer("example.com", { trustPrivateCa: false }),
    ]);
    for (const outcome of started) if (outcome.status === "rejected") throw outcome.reason;
  });

  afterAll(async () => {
    await Promise.all([...servers.values()].map((server) => server.dispose()));
    await network?.remove().catch(() => undefined);
    for (const tree of trees) tree.dispose();
    if (confDir) rmSync(confDir, { recursive: true, force: true });
  });

  it("should deliver a message from alice@example.org to bob@example.net, and bob's reply back", async () => {
    await using alice = await login("example.org");
    await using bob = await login("example.net");

    await alice.send("bob@example.net", "Hello Bob, from another server!");
    expect((await bob.waitForMessage("alice@example.org", 20_000)).body).toBe("Hello Bob, from another server!");

    await bob.send("alice@example.org", "Hi Alice, federation works.");
    expect((await alice.waitForMessage("bob@example.net", 20_000)).body).toBe("Hi Alice, federation works.");
  }, 45_000);

  it("should authenticate each server by its certificate (SASL EXTERNAL), not by dialback, over one link both ways (s2s_bidi)", async () => {
    // Follows the first test: alice wrote first, so example.org opened the link; with
    // bidirectional s2s (XEP-0288) bob's reply came back over it, and no second link was opened.
    const [org, net] = [await logsOf("example.org"), await logsOf("example.net")];
    expect(org).toContain("Outgoing s2s connection example.org->example.net complete");
    expect(net).toContain("Accepting SASL EXTERNAL identity from example.org");
    expect(net).toContain("Incoming s2s connection example.org->example.net complete");
    expect(net).not.toContain("Outgoing s2s connection example.net->example.org");
    for (const logs of [org, net]) expect(logs).not.toMatch(/Forbidding insecure connection/);

    for (const [local, remote] of [["example.org", "example.net"], ["example.net", "example.org"]] as const) {
      const shown = await servers.get(local)!.exec(["prosodyctl", "shell", "s2s", "show", local, "remote dir secure cert s2s_sasl dialback"]);
      expect(shown.exitCode, shown.stdout + shown.stderr).toBe(0);
      const links = shown.stdout.split("\n").filter((line) => line.includes(remote));
      expect(links, shown.stdout).toHaveLength(1);
      expect(links[0]).toContain("<->");
      expect(links[0]).toMatch(/TLSv1\.[23]/);
      expect(links[0]).toMatch(/\bValid\b/);
      expect(links[0]).toMatch(/\bSucceeded\b/);
      expect(links[0]).toMatch(/\bNot used\b/);
    }
  }, 30_000);

  it("should refuse federation with a server that does not trust the private CA, both ways", async () => {
    await using alice = await login("example.org");
    await using carol = await login("example.com");

    await carol.send("alice@example.org", "Can you read me?");
    await alice.send("carol@example.com", "Can you read me?");

    // example.com runs the image as it comes: it cannot verify example.org's certificate, so it
    // closes the link whichever side opened it, and says why.
    const refusedByExampleCom = [
      "Forbidding insecure connection to/from example.org because its certificate is not trusted",
      "Outgoing s2s stream example.com->example.org closed: Your server's certificate is not trusted",
      "Incoming s2s stream example.org->example.com closed: Your server's certificate is not trusted",
    ];
    // example.org, which does trust the CA, is told why, and bounces alice's message.
    const toldToExampleOrg = [
      "Outgoing s2s stream example.org->example.com closed: not-authorized (Your server's certificate is not trusted)",
      "Sending error replies for 1 queued stanzas because of failed outgoing connection to example.com",
    ];
    for (const [domain, lines] of [["example.com", refusedByExampleCom], ["example.org", toldToExampleOrg]] as const) {
      const logs = await waitFor(
        `${domain} to log: ${lines.join(" / ")}`,
        async () => {
          const logs = await logsOf(domain);
          return lines.every((line) => logs.includes(line)) && logs;
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      );
      expect(logs).not.toMatch(/s2s connection (example\.com->example\.org|example\.org->example\.com) complete/);
    }
    expect(await logsOf("example.com")).not.toContain("Accepting SASL EXTERNAL identity");

    const nothingFrom = (sender: string, recipient: string, waitedMs: number) =>
      new RegExp(`^Timed out after ${waitedMs} ms waiting for a message from ${sender.replace(/\./g, "\\.")} to ${recipient.replace(/\./g, "\\.")}/test-[0-9a-f]{8}; other messages received: none$`);
    await expect(alice.waitForMessage("carol@example.com", 2_000)).rejects.toThrow(nothingFrom("carol@example.com", "alice@example.org", 2_000));
    await expect(carol.waitForMessage("alice@example.org", 500)).rejects.toThrow(nothingFrom("alice@example.org", "carol@example.com", 500));
  }, 45_000);
});
