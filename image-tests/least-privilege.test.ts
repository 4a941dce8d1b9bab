import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

  it("should take a new root-owned bind mount over for prosody with compose.yaml's capabilities alone", async () => {
    expect(composeHardening().CapAdd).not.toContain("FOWNER");
    const hostDir = mkdtempSync(join(tmpdir(), "appliance-bind-data-"));
    try {
      await using appliance = await startAppliance({ hostConfig: composeHardening(), binds: [`${hostDir}:/var/lib/prosody`] });
      expect(await appliance.logs()).toContain("prepare data volume: /var/lib/prosody taken over for prosody");
      const stat = statSync(hostDir);
      expect({ uid: stat.uid, gid: stat.gid, mode: (stat.mode & 0o7777).toString(8) }).toEqual({ uid: 101, gid: 101, mode: "750" });
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  it("should refuse to start as root without one of compose.yaml's capabilities, naming it and the fix", async () => {
    const hardening = composeHardening();
    await using refused = await startAppliance({ hostConfig: { ...hardening, CapAdd: hardening.CapAdd.filter((cap) => cap !== "KILL") }, waitUntil: "started" });
    expect(await refused.exited()).toBe(78);
    const logs = await refused.logs();
    expect(logs).toContain("capability KILL is missing: the root entrypoint signals Prosody and coturn (reload, stop).");
    expect(logs).toContain("Accepted: --cap-add for each (--cap-add KILL; compose: cap_add), or no root at all: --user 101:101 with mounts uid 101 can use (README, Security).");
  });
});
