import { describe, expect, it } from "vitest";
import { loadSettings } from "./settings.js";
import { problemsOf } from "./test-settings.js";

const SECRET = "s3cret pass";

describe("first-run account settings", () => {
  it("should read XMPP_ADMIN_PASSWORD_FILE for the first of XMPP_ADMINS", () => {
    const settings = loadSettings(
      { XMPP_DOMAINS: "example.org", XMPP_ADMINS: "alice@example.org bob@example.org", XMPP_ADMIN_PASSWORD_FILE: "/run/secrets/pw" },
      () => `${SECRET}\n`,
    );
    expect(settings.adminPassword).toBe(SECRET);
  });

  it("should refuse a password when XMPP_ADMINS names nobody, without showing the password", () => {
    const problems = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_ADMIN_PASSWORD: SECRET });
    expect(problems).toEqual([
      "XMPP_ADMIN_PASSWORD is invalid: XMPP_ADMINS is empty, so there is no admin account to create with it. " +
        "Accepted: a password for the first account in XMPP_ADMINS (on a domain in XMPP_DOMAINS), best given as XMPP_ADMIN_PASSWORD_FILE, or empty, " +
        "e.g. XMPP_ADMIN_PASSWORD=correct-horse-battery-staple.",
    ]);
  });

  it("should refuse a password for an admin on a domain this server does not host", () => {
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_ADMINS: "alice@example.net", XMPP_ADMIN_PASSWORD_FILE: "/pw" }, () => SECRET);
    expect(problem).toMatch(
      /^XMPP_ADMIN_PASSWORD \(from XMPP_ADMIN_PASSWORD_FILE=\/pw\) is invalid: the account it is for, alice@example\.net \(the first of XMPP_ADMINS\), is not on a domain in XMPP_DOMAINS\./,
    );
    expect(problem).not.toContain(SECRET);
  });

  it("should take an empty password file as no password", () => {
    expect(loadSettings({ XMPP_DOMAINS: "example.org", XMPP_ADMIN_PASSWORD_FILE: "/pw" }, () => "\n").adminPassword).toBe("");
  });

  it("should refuse a password with a line break inside", () => {
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_ADMINS: "a@example.org", XMPP_ADMIN_PASSWORD: "one\ntwo" });
    expect(problem).toContain("XMPP_ADMIN_PASSWORD is invalid: the password has a line break or another control character.");
    expect(problem).not.toContain("one");
  });

  it("should read XMPP_ACCOUNTS lines, skipping blanks and comments", () => {
    const file = "# accounts\r\nbob@Example.org  bob pass \r\n\ncarol@example.net carol\n";
    const settings = loadSettings({ XMPP_DOMAINS: "example.org example.net", XMPP_ACCOUNTS_FILE: "/run/secrets/accounts" }, () => file);
    expect(settings.accounts).toEqual([
      { jid: "bob@example.org", password: "bob pass" },
      { jid: "carol@example.net", password: "carol" },
    ]);
  });

  it.each([
    ["bob@example.org", 'line 1 is not "user@domain password"'],
    ["\nbob@example.com pw", "line 2: bob@example.com is not on a domain in XMPP_DOMAINS"],
    ["bob pw", 'line 1: "bob" is not a bare JID like alice@example.org'],
    ["bob@example.org pw\nbob@example.org pw2", "line 2: bob@example.org is listed twice"],
    ["alice@example.org pw", "line 1: alice@example.org is created with XMPP_ADMIN_PASSWORD already"],
  ])("should refuse XMPP_ACCOUNTS %j, naming the line and never a password", (content, reason) => {
    const [problem] = problemsOf(
      { XMPP_DOMAINS: "example.org", XMPP_ADMINS: "alice@example.org", XMPP_ADMIN_PASSWORD: SECRET, XMPP_ACCOUNTS_FILE: "/accounts" },
      () => content,
    );
    expect(problem).toBe(
      `XMPP_ACCOUNTS (from XMPP_ACCOUNTS_FILE=/accounts) is invalid: ${reason}. Accepted: lines of \`user@domain password\` (a domain in XMPP_DOMAINS; the password is the rest of the line); blank lines and lines starting with # are skipped, e.g. XMPP_ACCOUNTS=bob@example.org hunter2.`,
    );
    expect(problem).not.toMatch(/pw2?\b|s3cret/);
  });

  it("should hide the value of XMPP_ACCOUNTS set directly, too", () => {
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_ACCOUNTS: "bob@example.com hunter2" });
    expect(problem).toMatch(/^XMPP_ACCOUNTS is invalid: line 1: bob@example\.com is not on a domain in XMPP_DOMAINS\./);
    expect(problem).not.toContain("hunter2 ");
  });

  it("should read XMPP_CERTIFICATE_REQUEST_DIR as an absolute path or empty", () => {
    expect(loadSettings({ XMPP_DOMAINS: "example.org", XMPP_CERTIFICATE_REQUEST_DIR: "/run/certificate-request/" }).certificateRequestDir).toBe(
      "/run/certificate-request",
    );
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_CERTIFICATE_REQUEST_DIR: "request" });
    expect(problem).toContain('XMPP_CERTIFICATE_REQUEST_DIR="request" is invalid: "request" is not an absolute path');
  });
});
