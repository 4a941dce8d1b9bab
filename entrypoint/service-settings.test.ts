import { describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import { loadSettings } from "./settings.js";

const base = { XMPP_DOMAINS: "example.org" };

function problemOf(env: Record<string, string>): string {
  try {
    loadSettings({ ...base, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(1);
    return problems[0]!;
  }
  throw new Error("expected loadSettings to fail");
}

describe("service settings", () => {
  it.each([
    ["512K", 512 * 1024],
    ["10M", 10 * 1024 ** 2],
    ["1g", 1024 ** 3],
    ["20MiB", 20 * 1024 ** 2],
    ["4096", 4096],
  ])("should read XMPP_UPLOAD_SIZE_LIMIT=%s as bytes", (value, bytes) => {
    expect(loadSettings({ ...base, XMPP_UPLOAD_SIZE_LIMIT: value }).uploadSizeLimit).toBe(bytes);
  });

  it.each([
    ["10 MB please", '"10 MB please" is not a size'],
    ["100", '"100" is less than 1K'],
    ["2T", '"2T" is not a size'],
  ])("should refuse XMPP_UPLOAD_SIZE_LIMIT=%j", (value, reason) => {
    expect(problemOf({ XMPP_UPLOAD_SIZE_LIMIT: value })).toBe(
      `XMPP_UPLOAD_SIZE_LIMIT="${value}" is invalid: ${reason}. Accepted: a size from 1K to 1024G, like 512K, 10M or 1G (binary units: 1M = 1024K), e.g. XMPP_UPLOAD_SIZE_LIMIT=20M.`,
    );
  });

  it("should read periods for XMPP_UPLOAD_EXPIRES_AFTER and refuse what is not one", () => {
    expect(loadSettings({ ...base, XMPP_UPLOAD_EXPIRES_AFTER: "30d" }).uploadExpiresAfter).toBe(30 * 86_400);
    expect(loadSettings({ ...base, XMPP_UPLOAD_EXPIRES_AFTER: "12h" }).uploadExpiresAfter).toBe(12 * 3_600);
    expect(problemOf({ XMPP_UPLOAD_EXPIRES_AFTER: "1 month" })).toContain(
      'XMPP_UPLOAD_EXPIRES_AFTER="1 month" is invalid: "1 month" is not a period. Accepted: a period from 1h to 52w',
    );
    expect(problemOf({ XMPP_UPLOAD_EXPIRES_AFTER: "60w" })).toContain('"60w" is outside 1h..52w');
  });

  it("should refuse a subdomain that is not one DNS label", () => {
    expect(problemOf({ XMPP_MUC_SUBDOMAIN: "chat.rooms" })).toBe(
      `XMPP_MUC_SUBDOMAIN="chat.rooms" is invalid: "chat.rooms" is not a single DNS label. Accepted: one DNS label (letters, digits, hyphens), different from the other services' subdomains, e.g. XMPP_MUC_SUBDOMAIN=groups.`,
    );
  });

  it("should refuse two services with the same name", () => {
    expect(problemOf({ XMPP_UPLOAD_SUBDOMAIN: "conference" })).toContain(
      'XMPP_UPLOAD_SUBDOMAIN="conference" is invalid: "conference" is already the name of XMPP_MUC_SUBDOMAIN.',
    );
    expect(problemOf({ XMPP_PROXY65_SUBDOMAIN: "upload" })).toContain("is already the name of XMPP_UPLOAD_SUBDOMAIN");
  });

  it("should refuse a service name that is also a hosted domain", () => {
    expect(problemOf({ XMPP_DOMAINS: "example.org, groups.example.org", XMPP_MUC_SUBDOMAIN: "groups" })).toContain(
      'XMPP_MUC_SUBDOMAIN="groups" is invalid: groups.example.org is also in XMPP_DOMAINS.',
    );
  });

  it("should read the proxy's address and port, refusing ports other services use", () => {
    const settings = loadSettings({ ...base, XMPP_PROXY65_ADDRESS: "203.0.113.7", XMPP_PROXY65_PORT: "7777" });
    expect([settings.proxy65Address, settings.proxy65Port]).toEqual(["203.0.113.7", 7777]);
    expect(loadSettings({ ...base, XMPP_PROXY65_ADDRESS: "XMPP.Example.org" }).proxy65Address).toBe("xmpp.example.org");
    expect(problemOf({ XMPP_PROXY65_ADDRESS: "not an address" })).toContain('"not an address" is not a host name or IP address');
    expect(problemOf({ XMPP_PROXY65_PORT: "5281" })).toBe(
      'XMPP_PROXY65_PORT="5281" is invalid: 5281 is already used by another service. Accepted: a port number from 1 to 65535 not used by another service, e.g. XMPP_PROXY65_PORT=7777.',
    );
    expect(problemOf({ XMPP_PROXY65_PORT: "70000" })).toContain('"70000" is not a port number');
  });

  it("should default the contact addresses to the admins as xmpp: URIs", () => {
    const settings = loadSettings({ ...base, XMPP_ADMINS: "alice@example.org", XMPP_CONTACT_ABUSE: "mailto:abuse@example.org" });
    expect(settings.contactAbuse).toEqual(["mailto:abuse@example.org"]);
    expect(settings.contactAdmin).toEqual(["xmpp:alice@example.org"]);
    expect(settings.contactSupport).toEqual(["xmpp:alice@example.org"]);
    expect(problemOf({ XMPP_CONTACT_SUPPORT: "help@example.org" })).toContain(
      'XMPP_CONTACT_SUPPORT="help@example.org" is invalid: "help@example.org" is not an xmpp:, mailto: or https: URI.',
    );
  });

  it("should read XMPP_PUBLIC_URL without its trailing slash, and only as https", () => {
    expect(loadSettings({ ...base, XMPP_PUBLIC_URL: "https://xmpp.example.org/" }).publicUrl).toBe("https://xmpp.example.org");
    expect(loadSettings({ ...base, XMPP_PUBLIC_URL: "https://example.org:8443/xmpp/" }).publicUrl).toBe("https://example.org:8443/xmpp");
    expect(problemOf({ XMPP_PUBLIC_URL: "http://example.org" })).toContain('"http://example.org" is not an https:// URL');
    expect(problemOf({ XMPP_PUBLIC_URL: "example.org" })).toContain('"example.org" is not a URL');
    expect(problemOf({ XMPP_PUBLIC_URL: "https://example.org/?a=b" })).toContain("has more than a host, port and path");
  });

  it("should read trusted proxies as addresses and CIDR ranges", () => {
    expect(loadSettings({ ...base, XMPP_TRUSTED_PROXIES: "172.18.0.0/16, 2001:db8::1" }).trustedProxies).toEqual(["172.18.0.0/16", "2001:db8::1"]);
    expect(problemOf({ XMPP_TRUSTED_PROXIES: "proxy.example.org" })).toContain('"proxy.example.org" is not an IP address or CIDR range');
    expect(problemOf({ XMPP_TRUSTED_PROXIES: "10.0.0.0/33" })).toContain('"10.0.0.0/33" is not an IP address or CIDR range');
  });

  it("should read XMPP_REGISTRATION and refuse anything else", () => {
    expect(loadSettings({ ...base, XMPP_REGISTRATION: "Invite" }).registration).toBe("invite");
    expect(problemOf({ XMPP_REGISTRATION: "invites" })).toBe(
      'XMPP_REGISTRATION="invites" is invalid: "invites" is not one of them. Accepted: closed, invite or open, e.g. XMPP_REGISTRATION=invite.',
    );
  });

  it("should read XMPP_WEB_CLIENT_PATH and refuse what is not a free URL path", () => {
    expect(loadSettings(base).webClientPath).toBe("/");
    expect(loadSettings({ ...base, XMPP_WEB_CLIENT_PATH: "/chat/" }).webClientPath).toBe("/chat");
    expect(problemOf({ XMPP_WEB_CLIENT_PATH: "chat" })).toContain('XMPP_WEB_CLIENT_PATH="chat" is invalid: "chat" is not an absolute URL path.');
    expect(problemOf({ XMPP_WEB_CLIENT_PATH: "/a/../b" })).toContain('"/a/../b" is not an absolute URL path');
    expect(problemOf({ XMPP_WEB_CLIENT_PATH: "/chat?x=1" })).toContain('"/chat?x=1" is not an absolute URL path');
    expect(problemOf({ XMPP_WEB_CLIENT_PATH: "/http-bind" })).toContain('XMPP_WEB_CLIENT_PATH="/http-bind" is invalid: "/http-bind" is taken by /http-bind.');
    expect(problemOf({ XMPP_WEB_CLIENT_PATH: "/register/web" })).toContain('"/register/web" is taken by /register');
  });

  it.each(["XMPP_MUC", "XMPP_UPLOAD", "XMPP_PROXY65", "XMPP_PUSH", "XMPP_HTTPS", "XMPP_WEB_CLIENT"])("should refuse %s=maybe", (variable) => {
    expect(problemOf({ [variable]: "maybe" })).toContain(`${variable}="maybe" is invalid: "maybe" is not a yes/no value.`);
  });
});
