import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppliance, type Appliance } from "./helpers/appliance.js";
import { registerInBand } from "../test-support/xmpp/in-band-registration.js";
import { letsEncryptFixture, type LetsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";

const IBR_FEATURE = "http://jabber.org/features/iq-register";
const TOKEN_FEATURE = "urn:xmpp:ibr-token:0";

describe("registration", () => {
  let le: LetsEncryptFixture;
  beforeAll(() => {
    le = letsEncryptFixture([{ name: "example.org", names: ["example.org", "*.example.org"] }]);
  });
  afterAll(() => le?.[Symbol.dispose]());

  const start = (registration?: string) =>
    startAppliance({ env: { XMPP_REGISTRATION: registration }, binds: [le.bind] });
  const register = (appliance: Appliance, username: string, token?: string) =>
    registerInBand({ port: appliance.port(5223), domain: "example.org", username, password: `${username}-pw-long`, caPem: le.ca.root.certPem, ...(token ? { token } : {}) });
  const logIn = (appliance: Appliance, username: string) =>
    connectClient({ port: appliance.port(5223), mode: "direct-tls", domain: "example.org", username, password: `${username}-pw-long`, caPem: le.ca.root.certPem });
  async function invite(appliance: Appliance, ...args: string[]) {
    const made = await appliance.exec(["appliance-invite", ...args]);
    expect(made.exitCode, made.stderr).toBe(0);
    const uri = /URI: {3}(xmpp:\S+)/.exec(made.stdout)?.[1];
    const token = /Token: (\S+)/.exec(made.stdout)?.[1];
    expect(uri).toBe(`xmpp:${args[0] ?? "example.org"}?register;preauth=${token}`);
    return { token: token!, stdout: made.stdout };
  }

  it("should refuse to register anyone by default (closed), and offer no way to", async () => {
    await using appliance = await start();
    const outcome = await register(appliance, "mallory");
    expect(outcome.features).not.toContain(IBR_FEATURE);
    expect(outcome.features).not.toContain(TOKEN_FEATURE);
    expect(outcome.answer).not.toBe("result");
    await expect(logIn(appliance, "mallory")).rejects.toThrow(/not-authorized/);
    const noInvites = await appliance.exec(["appliance-invite"]);
    expect(noInvites.exitCode).toBe(69);
    expect(noInvites.stderr).toBe("appliance-invite: invites are off: start the container with XMPP_REGISTRATION=invite\n");
  });

  it("should register with an invite once, then refuse the reused, the missing and the expired token", async () => {
    await using appliance = await start("invite");
    const { token, stdout } = await invite(appliance);
    expect(stdout).toContain("Invite to register on example.org, single use, expires after 1w:");

    const first = await register(appliance, "alice", token);
    expect(first.features).toContain(TOKEN_FEATURE);
    expect(first).toMatchObject({ tokenAnswer: "result", answer: "result" });
    await using alice = await logIn(appliance, "alice");
    expect(alice.jid).toMatch(/^alice@example\.org\//);

    const reused = await register(appliance, "bob", token);
    expect(reused.tokenAnswer).toBe("forbidden");
    expect(reused.answer).toBe("not-acceptable");
    expect(reused.text).toBe("Registration on this server is through invitation only");

    const without = await register(appliance, "carol");
    expect(without).toMatchObject({ answer: "not-acceptable", text: "Registration on this server is through invitation only" });

    const { token: shortLived } = await invite(appliance, "example.org", "--expires-after", "1s");
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await register(appliance, "dave", shortLived)).tokenAnswer).toBe("forbidden");
    for (const refused of ["bob", "carol", "dave"]) await expect(logIn(appliance, refused)).rejects.toThrow(/not-authorized/);
  });

  it("should register anyone when open, a few per address, and warn loudly at start", async () => {
    await using appliance = await start("open");
    expect(await appliance.logs()).toContain(
      "WARNING: XMPP_REGISTRATION=open: ANYONE can create accounts on example.org (at most 3 per IP address per hour).",
    );
    const outcomes = [];
    for (const name of ["erin", "frank", "grace", "heidi"]) outcomes.push(await register(appliance, name));
    expect(outcomes[0]!.features).toContain(IBR_FEATURE);
    expect(outcomes.map((o) => o.answer)).toEqual(["result", "result", "result", "policy-violation"]);
    expect(outcomes[3]!.text).toBe("Too many registrations from this IP address recently");
    await using erin = await logIn(appliance, "erin");
    expect(erin.jid).toMatch(/^erin@example\.org\//);
  });
});
