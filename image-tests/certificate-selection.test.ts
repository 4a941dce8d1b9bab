import { describe, expect, it } from "vitest";
import { startAppliance } from "./helpers/appliance.js";
import { letsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";

describe("certificates found in /etc/letsencrypt", () => {
  it("should send the full chain on 5223, so a client that trusts only the root verifies it (the seed's Pidgin trouble)", async () => {
    using le = letsEncryptFixture([{ name: "example.org", names: ["example.org"] }]);
    await using appliance = await startAppliance({ binds: [le.bind] });
    for (const sni of [true, false]) {
      const served = await servedCertificate({ port: appliance.port(5223), mode: "direct-tls", domain: "example.org", sni, caPem: le.ca.root.certPem });
      expect(served.chain).toHaveLength(2);
      expect(served.chain[1]).toContain("intermediate CA");
      expect(served.authorized, served.authorizationError).toBe(true);
    }
  });

  it("should serve each domain its own lineage by SNI, the primary's to clients without SNI, and let users of both log in", async () => {
    using le = letsEncryptFixture([
      { name: "example.org", names: ["example.org", "*.example.org"] },
      { name: "example.net-0001", names: ["example.net"] },
    ]);
    await using appliance = await startAppliance({ env: { XMPP_DOMAINS: "example.org example.net" }, binds: [le.bind] });
    const serialOf = async (domain: string, sni: boolean) =>
      (await servedCertificate({ port: appliance.port(5223), mode: "direct-tls", domain, sni })).serial;
    expect(await serialOf("example.org", true)).toBe(le.tree.serial("example.org"));
    expect(await serialOf("example.net", true)).toBe(le.tree.serial("example.net-0001"));
    expect(await serialOf("example.net", false)).toBe(le.tree.serial("example.org"));

    for (const [user, domain] of [["alice", "example.org"], ["bob", "example.net"]] as const) {
      expect((await appliance.exec(["prosodyctl", "adduser", `${user}@${domain}`], { stdin: "pw\npw\n" })).exitCode).toBe(0);
    }
    await using alice = await connectClient({ port: appliance.port(5222), mode: "starttls", domain: "example.org", username: "alice", password: "pw", caPem: le.ca.root.certPem });
    await using bob = await connectClient({ port: appliance.port(5223), mode: "direct-tls", domain: "example.net", username: "bob", password: "pw", caPem: le.ca.root.certPem });
    await alice.send("bob@example.net", "across domains");
    expect((await bob.waitForMessage("alice@example.org")).body).toBe("across domains");
  });
});
