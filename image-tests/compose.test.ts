import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { letsEncryptFixture, type LetsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { IMAGE } from "../test-support/docker-engine.js";
import { waitFor } from "../test-support/wait-for.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";
import { composeCommand } from "../test-support/compose-project.js";

describe("compose.yaml", () => {
  const project = `appliance-test-${process.pid}`;
  let le: LetsEncryptFixture;
  // compose.yaml's admin password secret must exist; empty, it creates no account.
  const secrets = mkdtempSync(join(tmpdir(), "compose-secrets-"));
  const adminPasswordSecret = join(secrets, "xmpp-admin-password");
  writeFileSync(adminPasswordSecret, "");
  let compose: (...args: string[]) => { status: number | null; stdout: string; stderr: string };

  beforeAll(() => {
    le = letsEncryptFixture([{ name: "example.org", names: ["example.org"] }]);
    const [command, ...prefix] = composeCommand();
    compose = (...args) => {
      const result = spawnSync(command!, [...prefix, "--project-name", project, "--file", "compose.yaml", ...args], {
        encoding: "utf8",
        env: { ...process.env, BIND_ADDRESS: "127.0.0.1", LETSENCRYPT_DIR: le.tree.root, XMPP_ADMIN_PASSWORD_SECRET: adminPasswordSecret },
      });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    };
  });
  afterAll(() => {
    compose?.("down", "--volumes", "--timeout", "5");
    le?.[Symbol.dispose]();
    rmSync(secrets, { recursive: true, force: true });
  });

  it("should be valid and publish the XMPP, HTTPS and file-transfer proxy ports", () => {
    const config = compose("config");
    expect(config.status, config.stderr).toBe(0);
    for (const port of [5222, 5223, 5269, 5281, 5000]) expect(config.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}:${port}`));
    expect(config.stdout).toContain(`image: ${IMAGE}`);
  });

  it("should bring up a server a user can be added to and log in to", async () => {
    // The host-certbot setup: the xmpp service alone, on the host's /etc/letsencrypt.
    const up = compose("up", "--detach", "--no-build", "xmpp");
    expect(up.status, up.stderr).toBe(0);
    await waitFor("the compose service to be healthy", () => compose("exec", "-T", "xmpp", "appliance-healthcheck").status === 0, { timeoutMs: 60_000, intervalMs: 500 });
    const added = spawnSync("sh", ["-c", `printf 'pw\\npw\\n' | ${composeCommand().join(" ")} --project-name ${project} --file compose.yaml exec -T xmpp prosodyctl adduser alice@example.org`], {
      encoding: "utf8",
      env: { ...process.env, BIND_ADDRESS: "127.0.0.1", LETSENCRYPT_DIR: le.tree.root, XMPP_ADMIN_PASSWORD_SECRET: adminPasswordSecret },
    });
    expect(added.status, added.stderr + added.stdout).toBe(0);
    await using alice = await connectClient({ port: 5223, mode: "direct-tls", domain: "example.org", username: "alice", password: "pw", caPem: le.ca.root.certPem });
    expect(alice.serverCertificateSerial).toBe(le.tree.serial("example.org"));
  });
});
