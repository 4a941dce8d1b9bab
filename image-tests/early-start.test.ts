import { describe, expect, it } from "vitest";
import { prosodyPid, startAppliance, type Appliance } from "./helpers/appliance.js";
import { hardenedHostConfig } from "./helpers/hardening.js";
import { letsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { allServe, servedEverywhere } from "./helpers/served-everywhere.js";

// Prosody's process starts with the container (server/start-appliance) and waits for the
// entrypoint's configuration; the entrypoint spawns it itself when that one cannot take the
// groups it must have. Either way Prosody runs as exactly the same process.
const DOMAIN = "example.org";
const NO_CAPABILITY = "0000000000000000";

/** What the kernel says of Prosody's process, and its environment as Prosody itself reads it. */
async function prosodyProcess(appliance: Appliance) {
  const status = (await appliance.exec(["cat", `/proc/${await prosodyPid(appliance)}/status`])).stdout;
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*?)\\s*$`, "m").exec(status)?.[1];
  const lua = '>local e = os.getenv; return table.concat({ e"HOME", e"USER", e"LOGNAME", e"SHELL", e"PATH" }, " ")';
  const shell = await appliance.exec(["prosodyctl", "shell", lua]);
  return {
    uid: field("Uid"),
    gid: field("Gid"),
    groups: field("Groups"),
    noNewPrivs: field("NoNewPrivs"),
    capabilities: [field("CapInh"), field("CapPrm"), field("CapEff"), field("CapAmb")],
    umask: field("Umask"),
    environment: /^Result: (.*)$/m.exec(shell.stdout)?.[1] ?? `${shell.stdout}${shell.stderr}`,
  };
}

function asSpawned(groups: string) {
  return {
    uid: "101\t101\t101\t101",
    gid: "101\t101\t101\t101",
    groups,
    noNewPrivs: "1",
    capabilities: [NO_CAPABILITY, NO_CAPABILITY, NO_CAPABILITY, NO_CAPABILITY],
    umask: "0027",
    // What setpriv --reset-env gives the prosody account.
    environment: "/var/lib/prosody prosody prosody /usr/sbin/nologin /usr/local/bin:/usr/bin",
  };
}

/** The Lua processes in the container: Prosody, and nothing left of an early one. */
async function luaProcesses(appliance: Appliance): Promise<number> {
  const comms = (await appliance.exec(["sh", "-c", "cat /proc/[0-9]*/comm"])).stdout.split("\n");
  return comms.filter((name) => name === "lua5.4").length;
}

describe("Prosody's early start", () => {
  it("should start Prosody with the container, as prosody with the certs group, no capability and a clean environment", async () => {
    await using appliance = await startAppliance();
    expect(await appliance.logs()).toMatch(/^appliance info {2}start Prosody: pid \d+, started with the container \(\d+ ms\)$/m);
    expect(await prosodyProcess(appliance)).toEqual(asSpawned("101 990"));
    expect(await luaProcesses(appliance)).toBe(1);
  });

  it("should spawn Prosody itself, as the same process, when a read-only root keeps the image's certs group", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }], { readOnly: false });
    le.tree.applyGroupFix(4321, { dirMode: 0o750 });
    await using appliance = await startAppliance({ binds: [le.bind], hostConfig: hardenedHostConfig() });

    const logs = await appliance.logs();
    expect(logs).toContain("appliance info  Prosody's early start not used, starting it now: /etc/group gives prosody the groups 101,990, not 101,4321\n");
    expect(logs).toMatch(/^appliance info {2}start Prosody: pid \d+ \(\d+ ms\)$/m);
    expect(await prosodyProcess(appliance)).toEqual(asSpawned("101 4321"));
    expect(await luaProcesses(appliance)).toBe(1);
    expect(await servedEverywhere(appliance, DOMAIN)).toEqual(allServe(le.tree.serial(DOMAIN)));
  });
});
