import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execOnTerminal, startAppliance, type Appliance } from "./helpers/appliance.js";
import { letsEncryptFixture, type LetsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";
import { plaintextAuthAttempt } from "../test-support/xmpp/plaintext-auth-attempt.js";

const DOMAIN = "example.org";

describe("users managed with prosodyctl, as in the seed HOWTO", () => {
  let le: LetsEncryptFixture;
  let appliance: Appliance;

  beforeAll(async () => {
    le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN, `*.${DOMAIN}`] }]);
    appliance = await startAppliance({ env: { XMPP_DOMAINS: DOMAIN }, binds: [le.bind] });
  });
  afterAll(async () => {
    await appliance?.dispose();
    le?.[Symbol.dispose]();
  });

  const client = (username: string, password: string, mode: "starttls" | "direct-tls") =>
    connectClient({ port: appliance.port(mode === "starttls" ? 5222 : 5223), mode, domain: DOMAIN, username, password, caPem: le.ca.root.certPem });

  it("should create users with prosodyctl adduser, on a terminal and from piped input", async () => {
    const interactive = await execOnTerminal(appliance.container, ["prosodyctl", "adduser", `alice@${DOMAIN}`], [
      { prompt: /Enter new password:/, reply: "alice-secret\n" },
      { prompt: /Retype new password:/, reply: "alice-secret\n" },
    ]);
    expect(interactive.exitCode).toBe(0);
    expect(interactive.stdout).toContain(`Created alice@${DOMAIN}`);

    const piped = await appliance.exec(["prosodyctl", "adduser", `bob@${DOMAIN}`], { stdin: "bob-secret\nbob-secret\n" });
    expect(piped.exitCode).toBe(0);

    const list = await appliance.exec(["prosodyctl", "shell", "user", "list", DOMAIN]);
    expect(list.stdout).toContain(`alice@${DOMAIN}`);
    expect(list.stdout).toContain(`bob@${DOMAIN}`);
  });

  it("should let a STARTTLS client on 5222 and a direct-TLS client on 5223 chat, certificates verified", async () => {
    await using alice = await client("alice", "alice-secret", "starttls");
    await using bob = await client("bob", "bob-secret", "direct-tls");
    await alice.send(`bob@${DOMAIN}`, "Salut Bob, ça marche ?");
    expect((await bob.waitForMessage(`alice@${DOMAIN}`)).body).toBe("Salut Bob, ça marche ?");
    await bob.send(`alice@${DOMAIN}`, "Oui, en TLS de bout en bout.");
    expect((await alice.waitForMessage(`bob@${DOMAIN}`)).body).toBe("Oui, en TLS de bout en bout.");
    expect(alice.serverCertificateSerial).toBe(le.tree.serial(DOMAIN));
    expect(bob.serverCertificateSerial).toBe(le.tree.serial(DOMAIN));
  });

  it("should refuse authentication before TLS", async () => {
    const attempt = await plaintextAuthAttempt({ port: appliance.port(5222), domain: DOMAIN, username: "alice", password: "alice-secret" });
    expect(attempt).toEqual({
      mechanismsOffered: [],
      starttlsRequired: true,
      result: "failure",
      condition: "encryption-required",
      reply: "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><encryption-required/></failure>",
    });
  });

  it("should change a password with prosodyctl passwd", async () => {
    const changed = await execOnTerminal(appliance.container, ["prosodyctl", "passwd", `bob@${DOMAIN}`], [
      { prompt: /Enter new password:/, reply: "bob-new\n" },
      { prompt: /Retype new password:/, reply: "bob-new\n" },
    ]);
    expect(changed.exitCode).toBe(0);
    await expect(client("bob", "bob-secret", "starttls")).rejects.toThrow(/not-authorized/);
    await using bob = await client("bob", "bob-new", "starttls");
    expect(bob.isOnline()).toBe(true);
  });

  it("should delete a user with prosodyctl deluser", async () => {
    const deleted = await appliance.exec(["prosodyctl", "deluser", `bob@${DOMAIN}`]);
    expect(deleted.exitCode).toBe(0);
    const list = await appliance.exec(["prosodyctl", "shell", "user", "list", DOMAIN]);
    expect(list.stdout).not.toContain(`bob@${DOMAIN}`);
    await expect(client("bob", "bob-new", "direct-tls")).rejects.toThrow(/not-authorized/);
  });
});
