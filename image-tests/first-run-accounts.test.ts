import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestVolume, removeTestVolume, startAppliance } from "./helpers/appliance.js";
import { letsEncryptFixture, type LetsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { makeTempDir } from "../test-support/file-fixtures.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";

const DOMAIN = "example.org";
const PASSWORDS = { admin: "admin's first pass", bob: "bob from the list", carol: "carol by hand", adminChanged: "admin changed it" };

describe("first-run accounts from secret files", () => {
  const volume = `appliance-test-accounts-${process.pid}-${Date.now().toString(36)}`;
  let le: LetsEncryptFixture;
  let secrets: string;
  const cleanups: Array<() => void> = [];

  /** Secret files as compose mounts them; passwords only ever in files. */
  const writeSecrets = (admin: string, accounts: string) => {
    writeFileSync(join(secrets, "admin-password"), `${admin}\n`, { mode: 0o600 });
    writeFileSync(join(secrets, "accounts"), accounts, { mode: 0o600 });
  };
  const start = (env: Record<string, string> = {}) =>
    startAppliance({
      env: {
        XMPP_DOMAINS: DOMAIN,
        XMPP_ADMINS: `admin@${DOMAIN}`,
        XMPP_ADMIN_PASSWORD_FILE: "/run/secrets/admin-password",
        XMPP_ACCOUNTS_FILE: "/run/secrets/accounts",
        ...env,
      },
      binds: [le.bind, `${secrets}:/run/secrets:ro`],
      dataVolume: volume,
    });
  const login = (port: number, username: string, password: string) =>
    connectClient({ port, mode: "starttls", domain: DOMAIN, username, password, caPem: le.ca.root.certPem });

  beforeAll(async () => {
    le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }]);
    secrets = makeTempDir(cleanups);
    await createTestVolume(volume);
  });
  afterAll(async () => {
    await removeTestVolume(volume);
    le?.[Symbol.dispose]();
    cleanups.forEach((cleanup) => cleanup());
  });

  it("should create the first admin and the listed accounts at first start, logging no password", async () => {
    writeSecrets(PASSWORDS.admin, `# first-run accounts\nbob@${DOMAIN} ${PASSWORDS.bob}\n`);
    await using appliance = await start();
    await using admin = await login(appliance.port(5222), "admin", PASSWORDS.admin);
    await using bob = await login(appliance.port(5222), "bob", PASSWORDS.bob);
    expect([admin.isOnline(), bob.isOnline()]).toEqual([true, true]);

    const logs = await appliance.logs();
    expect(logs).toContain(`appliance info  account admin@${DOMAIN} created with the password from XMPP_ADMIN_PASSWORD`);
    expect(logs).toContain(`appliance info  account bob@${DOMAIN} created with the password from XMPP_ACCOUNTS`);
    expect(logs).toMatch(/appliance info  create first-run accounts: 2 created, 0 existed already, 0 failed \(\d+ ms\)/);
    for (const password of Object.values(PASSWORDS)) expect(logs).not.toContain(password);

    // The user changes the password; carol's account is made by hand.
    expect((await appliance.exec(["prosodyctl", "passwd", `admin@${DOMAIN}`], { stdin: `${PASSWORDS.adminChanged}\n${PASSWORDS.adminChanged}\n` })).exitCode).toBe(0);
    expect((await appliance.exec(["prosodyctl", "adduser", `carol@${DOMAIN}`], { stdin: `${PASSWORDS.carol}\n${PASSWORDS.carol}\n` })).exitCode).toBe(0);
  });

  it("should never reset a password from a changed secret, nor an account it finds existing", async () => {
    writeSecrets("a new secret the admin never chose", `bob@${DOMAIN} changed in the list\ncarol@${DOMAIN} carol from the list\n`);
    await using appliance = await start();
    await using admin = await login(appliance.port(5222), "admin", PASSWORDS.adminChanged);
    await using bob = await login(appliance.port(5222), "bob", PASSWORDS.bob);
    await using carol = await login(appliance.port(5222), "carol", PASSWORDS.carol);
    expect([admin.isOnline(), bob.isOnline(), carol.isOnline()]).toEqual([true, true, true]);
    await expect(login(appliance.port(5222), "admin", "a new secret the admin never chose")).rejects.toThrow(/not-authorized/);

    const logs = await appliance.logs();
    expect(logs).toContain(
      `appliance info  account carol@${DOMAIN} exists: left as it is (XMPP_ACCOUNTS only creates it; change its password with prosodyctl passwd)`,
    );
    expect(logs).toMatch(/create first-run accounts: 0 created, 1 existed already, 0 failed, 2 handled at an earlier start \(\d+ ms\)/);
    expect(logs).not.toMatch(/changed in the list|carol from the list|never chose/);
  });

  it("should stop with 78 before Prosody starts when the password has no admin to create", async () => {
    await using appliance = await startAppliance({
      env: { XMPP_DOMAINS: DOMAIN, XMPP_ADMIN_PASSWORD_FILE: "/run/secrets/admin-password" },
      binds: [`${secrets}:/run/secrets:ro`],
      waitUntil: "started",
    });
    expect(await appliance.exited()).toBe(78);
    const logs = await appliance.logs();
    expect(logs).toContain(
      "XMPP_ADMIN_PASSWORD (from XMPP_ADMIN_PASSWORD_FILE=/run/secrets/admin-password) is invalid: XMPP_ADMINS is empty, so there is no admin account to create with it.",
    );
    expect(logs).not.toContain("never chose");
    expect(logs).not.toContain("Hello and welcome to Prosody");
  });
});
