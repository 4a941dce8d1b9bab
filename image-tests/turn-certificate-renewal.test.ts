import { describe, expect, it } from "vitest";
import { startAppliance, type Appliance } from "./helpers/appliance.js";
import { letsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { waitFor } from "../test-support/wait-for.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";

const DOMAIN = "example.org";
const PID_FILE = "/dev/shm/prosody-appliance-turn/turnserver.pid";

async function turnPid(appliance: Appliance): Promise<string> {
  const read = await appliance.exec(["cat", PID_FILE]);
  expect(read.exitCode, read.stderr).toBe(0);
  return read.stdout.trim();
}

const onTurns = async (appliance: Appliance) => (await servedCertificate({ port: appliance.port(5349), mode: "direct-tls", domain: DOMAIN, sni: true })).serial;

describe("a certbot renewal with the built-in TURN server", () => {
  it("should serve the new certificate on 5349 (TURNS) without restarting TURN", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN, `*.${DOMAIN}`] }]);
    await using appliance = await startAppliance({ binds: [le.bind] });
    const pid = await turnPid(appliance);
    expect(await onTurns(appliance)).toBe(le.tree.serial(DOMAIN));

    const renewed = await le.tree.renew(DOMAIN);
    await waitFor("5349 to serve the renewed certificate", async () => (await onTurns(appliance)) === renewed.serial, { timeoutMs: 10_000 });
    await waitFor("the renewal to be kept", async () => (await appliance.logs()).includes(`certificate for ${DOMAIN} renewed`), { timeoutMs: 10_000 });

    expect(await turnPid(appliance)).toBe(pid);
    const logs = await appliance.logs();
    expect(logs).not.toContain("going back to the previous certificates");
    expect(logs).not.toContain("TURN server exited");
  });
});
