import { describe, expect, it } from "vitest";
import { startAppliance } from "./helpers/appliance.js";

async function exitOf(env: Record<string, string | undefined>) {
  await using appliance = await startAppliance({ env, waitUntil: "started" });
  const code = await appliance.exited();
  return { code, logs: await appliance.logs() };
}

describe("bad settings", () => {
  it("should end the container with 78 when XMPP_DOMAINS is missing", async () => {
    const { code, logs } = await exitOf({ XMPP_DOMAINS: undefined });
    expect(code).toBe(78);
    expect(logs).toContain("XMPP_DOMAINS is required but not set. Accepted: one or more domain names separated by commas or spaces");
    expect(logs).not.toContain("Hello and welcome to Prosody");
  });

  it("should end the container with 78 when XMPP_DOMAINS is not a domain", async () => {
    const { code, logs } = await exitOf({ XMPP_DOMAINS: "not a_domain!" });
    expect(code).toBe(78);
    expect(logs).toContain('XMPP_DOMAINS="not a_domain!" is invalid: "a_domain!" is not a valid domain name');
  });

  it("should end the container with 78 for an unknown XMPP_ name, suggesting the closest", async () => {
    const { code, logs } = await exitOf({ XMPP_DOMAINS: "example.org", XMPP_LOGLEVEL: "debug" });
    expect(code).toBe(78);
    expect(logs).toContain("XMPP_LOGLEVEL is not a known setting. Did you mean XMPP_LOG_LEVEL?");
  });

  it("should end the container with 78 for bad service settings, naming each with what is accepted", async () => {
    const { code, logs } = await exitOf({ XMPP_DOMAINS: "example.org", XMPP_REGISTRATION: "invites", XMPP_UPLOAD_SIZE_LIMIT: "lots", XMPP_PROXY65_PORT: "5281", XMPP_WEB_CLIENT_PATH: "/http-bind" });
    expect(code).toBe(78);
    expect(logs).toContain('XMPP_REGISTRATION="invites" is invalid: "invites" is not one of them. Accepted: closed, invite or open, e.g. XMPP_REGISTRATION=invite.');
    expect(logs).toContain('XMPP_UPLOAD_SIZE_LIMIT="lots" is invalid: "lots" is not a size. Accepted: a size from 1K to 1024G');
    expect(logs).toContain('XMPP_PROXY65_PORT="5281" is invalid: 5281 is already used by another service.');
    expect(logs).toContain('XMPP_WEB_CLIENT_PATH="/http-bind" is invalid: "/http-bind" is taken by /http-bind. Accepted: an absolute URL path');
    expect(logs).not.toContain("Hello and welcome to Prosody");
  });

  it("should end the container with 78 when a _FILE variable points nowhere", async () => {
    const { code, logs } = await exitOf({ XMPP_DOMAINS_FILE: "/run/secrets/xmpp_domains" });
    expect(code).toBe(78);
    expect(logs).toContain('XMPP_DOMAINS_FILE="/run/secrets/xmpp_domains" cannot be read (no such file)');
  });
});
