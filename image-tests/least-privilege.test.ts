import { describe, expect, it } from "vitest";
import { prosodyPid, startAppliance } from "./helpers/appliance.js";
import { waitFor } from "../test-support/wait-for.js";
import { composeHardening } from "./helpers/hardening.js";

describe("least privilege", () => {
  it("should keep no setuid or setgid file in the image", async () => {
    await using appliance = await startAppliance();
    const found = await appliance.exec(["find", "/", "-xdev", "-perm", "/6000", "-type", "f"]);
    expect(found.stdout).toBe("");
  });

  it("should serve, reload on SIGHUP and stop cleanly with compose.yaml's capabilities and no-new-privileges", async () => {
    const hardening = composeHardening();
    expect(hardening.CapDrop).toEqual(["ALL"]);
    await using appliance = await startAppliance({ hostConfig: hardening });

    // Prosody runs with no-new-privs and without any capability.
    const status = (await appliance.exec(["cat", `/proc/${await prosodyPid(appliance)}/status`])).stdout;
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(status).toMatch(/^CapEff:\s+0+$/m);

    await appliance.container.kill({ signal: "SIGHUP" });
    await waitFor("Prosody to reload its certificates", async () => (await appliance.logs()).includes("Certificates reloaded"));
    await appliance.container.stop({ t: 10 });
    expect(await appliance.exited()).toBe(0);
  });
});
