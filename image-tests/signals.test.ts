import { describe, expect, it } from "vitest";
import { startAppliance } from "./helpers/appliance.js";
import { waitFor } from "./helpers/wait-for.js";
import { servedCertificate } from "./helpers/xmpp-client.js";

const PROSODY_PID = "for p in /proc/[0-9]*; do grep -q '^Name:\\s*lua' $p/status 2>/dev/null && basename $p; done";

describe("signals", () => {
  it("should re-check certificates and reload Prosody on SIGHUP, and keep serving", async () => {
    await using appliance = await startAppliance();
    await appliance.container.kill({ signal: "SIGHUP" });
    await waitFor("Prosody to reload its configuration", async () => {
      const logs = await appliance.logs();
      return logs.includes("SIGHUP: checking certificates and reloading Prosody") && logs.includes("Reloading configuration file");
    });
    expect((await appliance.container.inspect()).State.Running).toBe(true);
    const served = await servedCertificate({ port: appliance.port(5223), mode: "direct-tls", domain: "example.org", sni: true });
    expect(served.subjectAltName).toContain("DNS:example.org");
  });

  it("should end the container with 128 + 9 when Prosody is killed by SIGKILL", async () => {
    await using appliance = await startAppliance();
    const pid = (await appliance.exec(["sh", "-c", PROSODY_PID])).stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    expect((await appliance.exec(["sh", "-c", `kill -KILL ${pid}`])).exitCode).toBe(0);
    expect(await appliance.exited()).toBe(137);
    expect(await appliance.logs()).toContain("Prosody exited with status 137");
  });

  it("should stop with 0 on SIGINT, as on SIGTERM", async () => {
    await using appliance = await startAppliance();
    await appliance.container.kill({ signal: "SIGINT" });
    expect(await appliance.exited()).toBe(0);
  });
});
