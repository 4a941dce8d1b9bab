import { describe, expect, it } from "vitest";
import { loadSettings } from "./settings.js";
import { problemsOf as problemsOfAny } from "./test-settings.js";

const problemsOf = (env: Record<string, string>) => problemsOfAny({ XMPP_DOMAINS: "example.org", ...env });

describe("storage settings", () => {
  it("should read a PostgreSQL connection, the password also from a file", () => {
    const settings = loadSettings(
      { XMPP_DOMAINS: "example.org", XMPP_STORAGE: "Postgres", XMPP_DB_HOST: "db", XMPP_DB_PORT: "5433", XMPP_DB_NAME: "xmpp", XMPP_DB_USER: "xmpp", XMPP_DB_PASSWORD_FILE: "/run/secrets/db", XMPP_DB_TLS: "require", XMPP_DB_WAIT: "2m" },
      (path) => (path === "/run/secrets/db" ? "s3cret pass\n" : ""),
    );
    expect([settings.storage, settings.dbHost, settings.dbPort, settings.dbName, settings.dbUser, settings.dbPassword, settings.dbTls, settings.dbWait]).toEqual(["postgres", "db", 5433, "xmpp", "xmpp", "s3cret pass", "require", 120_000]);
  });

  it("should take sqlite with nothing else", () => {
    expect(loadSettings({ XMPP_DOMAINS: "example.org", XMPP_STORAGE: "sqlite" }).storage).toBe("sqlite");
  });

  it.each([
    [{ XMPP_STORAGE: "mysql" }, 'XMPP_STORAGE="mysql" is invalid: "mysql" is not one of them. Accepted: internal, sqlite or postgres, e.g. XMPP_STORAGE=postgres.'],
    [{ XMPP_STORAGE: "postgres" }, 'XMPP_DB_HOST="" is invalid: it is required with XMPP_STORAGE=postgres. Accepted: a host name or IP address (required with XMPP_STORAGE=postgres), or empty, e.g. XMPP_DB_HOST=postgres.'],
    [{ XMPP_DB_HOST: "db" }, 'XMPP_DB_HOST="db" is invalid: it is only used with XMPP_STORAGE=postgres (XMPP_STORAGE is internal). Accepted: a host name or IP address (required with XMPP_STORAGE=postgres), or empty, e.g. XMPP_DB_HOST=postgres.'],
    [{ XMPP_STORAGE: "postgres", XMPP_DB_HOST: "db_1" }, 'XMPP_DB_HOST="db_1" is invalid: "db_1" is not a host name or IP address. Accepted: a host name or IP address (required with XMPP_STORAGE=postgres), or empty, e.g. XMPP_DB_HOST=postgres.'],
    [{ XMPP_DB_NAME: "my db" }, 'XMPP_DB_NAME="my db" is invalid: "my db" is not a name of letters, digits, _, $ or - (at most 63, not starting with a digit). Accepted: a name of letters, digits, _, $ or - (at most 63, not starting with a digit), e.g. XMPP_DB_NAME=xmpp.'],
    [{ XMPP_DB_TLS: "verify-ca" }, 'XMPP_DB_TLS="verify-ca" is invalid: "verify-ca" is not one of them. Accepted: disable, prefer, require or verify-full, e.g. XMPP_DB_TLS=verify-full.'],
    [{ XMPP_DB_WAIT: "5s" }, 'XMPP_DB_WAIT="5s" is invalid: "5s" is outside 10s..24h. Accepted: a duration from 10s to 24h, like 30s, 5m or 1h, e.g. XMPP_DB_WAIT=5m.'],
    [{ XMPP_DB_PORT: "0" }, 'XMPP_DB_PORT="0" is invalid: "0" is not a port number. Accepted: a port number from 1 to 65535, e.g. XMPP_DB_PORT=5433.'],
  ])("should refuse %o, saying what is accepted", (env, problem) => {
    expect(problemsOf(env)).toEqual([problem]);
  });

  it("should refuse a password with sqlite, never showing it", () => {
    const problems = problemsOf({ XMPP_STORAGE: "sqlite", XMPP_DB_PASSWORD: "hunter2-secret" });
    expect(problems).toEqual([
      "XMPP_DB_PASSWORD is invalid: it is only used with XMPP_STORAGE=postgres (XMPP_STORAGE is sqlite). Accepted: the role's password (no line breaks), or empty; only with XMPP_STORAGE=postgres, e.g. XMPP_DB_PASSWORD=correct-horse-battery-staple.",
    ]);
    expect(problemsOf({ XMPP_STORAGE: "postgres", XMPP_DB_HOST: "db", XMPP_DB_PASSWORD: "line\nbreak-secret" }).join()).not.toContain("break-secret");
  });
});
