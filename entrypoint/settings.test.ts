import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSettings } from "./settings.js";
import { problemsOf } from "./test-settings.js";

describe("loadSettings", () => {
  it("should apply defaults when only XMPP_DOMAINS is set", () => {
    expect(loadSettings({ XMPP_DOMAINS: "example.org" })).toEqual({
      domains: ["example.org"],
      admins: [],
      adminPassword: "",
      accounts: [],
      logLevel: "info",
      ipv6: "auto",
      federation: true,
      tlsProfile: "intermediate",
      certsDir: "/etc/letsencrypt",
      certsGid: "auto",
      certsPolling: false,
      certsRecheckInterval: 300_000,
      muc: true,
      mucSubdomain: "conference",
      upload: true,
      uploadSubdomain: "upload",
      uploadSizeLimit: 100 * 1024 ** 2,
      uploadDailyQuota: 1024 ** 3,
      uploadExpiresAfter: 604_800,
      proxy65: true,
      proxy65Subdomain: "proxy",
      proxy65Address: "",
      proxy65Port: 5000,
      push: true,
      contactAbuse: [],
      contactAdmin: [],
      contactSupport: [],
      https: true,
      publicUrl: "",
      trustedProxies: [],
      webClient: true,
      webClientPath: "/",
      registration: "closed",
      certificateRequestDir: "",
      turn: "builtin",
      turnExternalIp: "",
      turnRelayPorts: { first: 49160, last: 49200 },
      turnRelayPublished: false,
      turnAllowedPeers: [],
      turnSecret: "",
      turnHost: "",
      turnPort: 3478,
      turnTlsPort: 5349,
      metrics: "off",
      metricsAllow: [],
      storage: "internal",
      dbHost: "",
      dbPort: 5432,
      dbName: "prosody",
      dbUser: "prosody",
      dbPassword: "",
      dbTls: "prefer",
      dbWait: 60_000,
    });
  });

  it("should split domains on commas and spaces, lower-case and de-duplicate them", () => {
    const settings = loadSettings({ XMPP_DOMAINS: " Example.org, chat.example.net  example.org." });
    expect(settings.domains).toEqual(["example.org", "chat.example.net"]);
  });

  it("should refuse a missing XMPP_DOMAINS, saying what is accepted", () => {
    expect(problemsOf({})).toEqual([
      "XMPP_DOMAINS is required but not set. Accepted: one or more domain names separated by commas or spaces, e.g. XMPP_DOMAINS=example.org,example.net.",
    ]);
  });

  it.each([
    ["exa_mple.org", '"exa_mple.org" is not a valid domain name'],
    ["-bad.org", '"-bad.org" is not a valid domain name'],
    ["192.168.1.1", '"192.168.1.1" is an IP address, not a domain name'],
    [" , ", "no domain given"],
  ])("should refuse XMPP_DOMAINS=%j", (value, reason) => {
    const [problem] = problemsOf({ XMPP_DOMAINS: value });
    expect(problem).toContain(`XMPP_DOMAINS="${value}" is invalid: ${reason}.`);
    expect(problem).toContain("Accepted: one or more domain names");
  });

  it("should refuse an unknown XMPP_ variable and suggest the closest known one", () => {
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_DOMIANS: "x" });
    expect(problem).toMatch(/^XMPP_DOMIANS is not a known setting\. Did you mean XMPP_DOMAINS\?/);
  });

  it("should suggest the _FILE form for a misspelt _FILE variable", () => {
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_ADMIN_FILE: "/x" });
    expect(problem).toContain("Did you mean XMPP_ADMINS_FILE?");
  });

  it("should ignore variables without the XMPP_ prefix", () => {
    expect(loadSettings({ XMPP_DOMAINS: "example.org", PATH: "/bin", XMPPFOO: "1" }).domains).toEqual(["example.org"]);
  });

  it("should read a value from NAME_FILE, without its trailing newline", () => {
    const files: Record<string, string> = { "/run/secrets/domains": "example.org\n" };
    const settings = loadSettings({ XMPP_DOMAINS_FILE: "/run/secrets/domains" }, (p) => {
      const content = files[p];
      if (content === undefined) throw Object.assign(new Error("nope"), { code: "ENOENT" });
      return content;
    });
    expect(settings.domains).toEqual(["example.org"]);
  });

  it("should name the _FILE variable and the path when the file cannot be read", () => {
    const [problem] = problemsOf({ XMPP_DOMAINS_FILE: "/run/secrets/missing" }, () => {
      throw Object.assign(new Error("nope"), { code: "ENOENT" });
    });
    expect(problem).toBe(
      'XMPP_DOMAINS_FILE="/run/secrets/missing" cannot be read (no such file). Accepted: the path of a readable file whose content is the value of XMPP_DOMAINS.',
    );
  });

  it("should name the _FILE variable, never the file's content, when the value is invalid", () => {
    const shadow = "root:$y$j9T$secrethash:19000:0:99999:7:::\n";
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_LOG_LEVEL_FILE: "/etc/shadow" }, () => shadow);
    expect(problem).toBe(
      "XMPP_LOG_LEVEL (from XMPP_LOG_LEVEL_FILE=/etc/shadow) is invalid: the file's content is not accepted (not shown: it may be a secret). " +
        "Accepted: debug, info, warn or error, e.g. XMPP_LOG_LEVEL=debug.",
    );
  });

  it("should refuse a 100 KB value without parsing or echoing it", () => {
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_LOG_LEVEL: "a".repeat(100 * 1024) });
    expect(problem).toBe(
      "XMPP_LOG_LEVEL is invalid: it has 102400 characters, more than 4096 (not shown). Accepted: debug, info, warn or error, e.g. XMPP_LOG_LEVEL=debug.",
    );
  });

  it("should refuse a file with a NUL byte, even after a valid value", () => {
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_CERTS_DIR_FILE: "/run/secrets/dir" }, () => "/certs\0");
    expect(problem).toBe(
      "XMPP_CERTS_DIR (from XMPP_CERTS_DIR_FILE=/run/secrets/dir) is invalid: the file has a NUL byte, so it is not text (not shown). " +
        "Accepted: an absolute path inside the container, e.g. XMPP_CERTS_DIR=/certs.",
    );
  });

  it("should show a line break or a right-to-left override in a value escaped, so no log line is forged", () => {
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_LOG_LEVEL: "x\nappliance info  start Prosody\u202e" });
    expect(problem).toBe(
      'XMPP_LOG_LEVEL="x\\nappliance info  start Prosody\\u{202E}" is invalid: "x\\nappliance info  start Prosody\\u{202E}" is not one of them. ' +
        "Accepted: debug, info, warn or error, e.g. XMPP_LOG_LEVEL=debug.",
    );
  });

  it("should refuse a control character in a path", () => {
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_CERTS_DIR: "/certs\nx" });
    expect(problem).toContain("XMPP_CERTS_DIR=\"/certs\\nx\" is invalid: it has a line break, a NUL or another control character.");
  });

  it("should refuse a FIFO as a _FILE at once, instead of waiting for a writer", () => {
    const dir = mkdtempSync(join(tmpdir(), "settings-test-"));
    try {
      execFileSync("mkfifo", [join(dir, "level")]);
      const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_LOG_LEVEL_FILE: join(dir, "level") });
      expect(problem).toBe(
        `XMPP_LOG_LEVEL_FILE="${join(dir, "level")}" cannot be read (not a regular file: a FIFO). Accepted: the path of a readable file whose content is the value of XMPP_LOG_LEVEL.`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("should refuse a variable set both directly and through _FILE", () => {
    const problems = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_DOMAINS_FILE: "/x" }, () => "example.org");
    expect(problems).toEqual(["XMPP_DOMAINS and XMPP_DOMAINS_FILE are both set. Accepted: only one of them."]);
  });

  it("should take intermediate or modern as XMPP_TLS_PROFILE, and name both otherwise", () => {
    expect(loadSettings({ XMPP_DOMAINS: "example.org" }).tlsProfile).toBe("intermediate");
    expect(loadSettings({ XMPP_DOMAINS: "example.org", XMPP_TLS_PROFILE: " MODERN " }).tlsProfile).toBe("modern");
    expect(problemsOf({ XMPP_DOMAINS: "example.org", XMPP_TLS_PROFILE: "old" })).toEqual([
      'XMPP_TLS_PROFILE="old" is invalid: "old" is not one of them. Accepted: intermediate or modern, e.g. XMPP_TLS_PROFILE=modern.',
    ]);
  });

  it("should report every bad variable at once", () => {
    const problems = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_LOG_LEVEL: "loud", XMPP_IPV6: "maybe" });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toBe(
      'XMPP_LOG_LEVEL="loud" is invalid: "loud" is not one of them. Accepted: debug, info, warn or error, e.g. XMPP_LOG_LEVEL=debug.',
    );
    expect(problems[1]).toContain('XMPP_IPV6="maybe" is invalid');
  });

  it.each([
    ["auto", "auto"],
    ["no", false],
    ["FALSE", false],
    ["1", true],
  ])("should read XMPP_IPV6=%s", (value, expected) => {
    expect(loadSettings({ XMPP_DOMAINS: "example.org", XMPP_IPV6: value }).ipv6).toBe(expected);
  });

  it("should parse admins as bare JIDs and refuse full JIDs", () => {
    expect(loadSettings({ XMPP_DOMAINS: "example.org", XMPP_ADMINS: "Alice@Example.org bob@example.org" }).admins).toEqual([
      "alice@example.org",
      "bob@example.org",
    ]);
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_ADMINS: "alice@example.org/phone" });
    expect(problem).toContain('"alice@example.org/phone" is not a bare JID like alice@example.org');
  });

  it.each([
    ["30s", 30_000],
    ["5m", 300_000],
    ["1H", 3_600_000],
  ])("should read XMPP_CERTS_RECHECK_INTERVAL=%s", (value, ms) => {
    expect(loadSettings({ XMPP_DOMAINS: "example.org", XMPP_CERTS_RECHECK_INTERVAL: value }).certsRecheckInterval).toBe(ms);
  });

  it.each(["5", "1s", "2d", "soon"])("should refuse XMPP_CERTS_RECHECK_INTERVAL=%s", (value) => {
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_CERTS_RECHECK_INTERVAL: value });
    expect(problem).toContain(`XMPP_CERTS_RECHECK_INTERVAL="${value}" is invalid`);
    expect(problem).toContain("Accepted: a duration from 10s to 24h");
  });

  it("should read XMPP_CERTS_GID as auto or a number", () => {
    expect(loadSettings({ XMPP_DOMAINS: "example.org", XMPP_CERTS_GID: "1001" }).certsGid).toBe(1001);
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_CERTS_GID: "certs" });
    expect(problem).toContain('XMPP_CERTS_GID="certs" is invalid: "certs" is not a group id');
  });

  it("should refuse a relative XMPP_CERTS_DIR", () => {
    const [problem] = problemsOf({ XMPP_DOMAINS: "example.org", XMPP_CERTS_DIR: "certs" });
    expect(problem).toContain('XMPP_CERTS_DIR="certs" is invalid: "certs" is not an absolute path');
  });
});
