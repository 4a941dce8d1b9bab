import { describe, expect, it } from "vitest";
import { prosodyPid, startAppliance, type Appliance } from "./helpers/appliance.js";
import { waitFor } from "../test-support/wait-for.js";

const PID_FILE = "/dev/shm/prosody-appliance-turn/turnserver.pid";

async function pidOf(appliance: Appliance, path: string): Promise<string> {
  return (await appliance.exec(["cat", path])).stdout.trim();
}

/** The status line of a process, e.g. Uid or NoNewPrivs, as /proc shows it. */
async function statusOf(appliance: Appliance, pid: string, field: string): Promise<string> {
  const status = (await appliance.exec(["cat", `/proc/${pid}/status`])).stdout;
  return new RegExp(`^${field}:\\s*(.*)$`, "m").exec(status)?.[1]?.trim() ?? "";
}

describe("the built-in TURN server's supervision", () => {
  it("should run TURN unprivileged, restart it when it dies while Prosody keeps running, and stop both on docker stop", async () => {
    await using appliance = await startAppliance();
    const turn = await waitFor("TURN's pid file", () => pidOf(appliance, PID_FILE));
    const prosody = await prosodyPid(appliance);

    expect(await statusOf(appliance, turn, "Uid")).toMatch(/^(\d+)\s+\1\s+\1\s+\1$/);
    expect(await statusOf(appliance, turn, "Uid")).not.toMatch(/^0\s/);
    expect(await statusOf(appliance, turn, "NoNewPrivs")).toBe("1");
    expect(await statusOf(appliance, turn, "CapEff")).toBe("0000000000000000");
    const logs = await appliance.logs();
    expect(logs).toMatch(/^turn Version Coturn-4\.6/m);
    expect(logs).toContain("XMPP_TURN_EXTERNAL_IP is not set: the built-in TURN server gives clients relay addresses on the container's private network");
    expect(logs.match(/XMPP_TURN_EXTERNAL_IP is not set/g)).toHaveLength(1);
    // On a Docker network (this test's bridge) the container cannot see its published ports.
    expect(logs).toContain(
      "appliance warn  TURN relay range 49160-49200/udp not known to be published: the container cannot see its published ports. Unless the host publishes them as the same numbers, relayed calls connect but carry no audio or video. Publish them with -p 49160-49200:49160-49200/udp (compose.yaml does) and set XMPP_TURN_RELAY_PUBLISHED=yes, or run with --network host.",
    );
    expect(logs.match(/TURN relay range .* not known to be published/g)).toHaveLength(1);

    // No kill binary in the image: the shell's builtin.
    expect((await appliance.exec(["sh", "-c", `kill -KILL ${turn}`])).exitCode).toBe(0);
    await waitFor("TURN to be restarted", async () => {
      const now = await pidOf(appliance, PID_FILE);
      return now !== "" && now !== turn && (await appliance.exec(["test", "-d", `/proc/${now}`])).exitCode === 0;
    }, { timeoutMs: 15_000 });
    expect(await appliance.logs()).toContain("appliance error TURN server exited (signal SIGKILL); Prosody keeps running; restarting it in 1 s");
    expect(await prosodyPid(appliance), "Prosody's pid").toBe(prosody);
    expect((await appliance.exec(["appliance-healthcheck"])).exitCode).toBe(0);

    const started = Date.now();
    await appliance.container.stop({ t: 10 });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect((await appliance.container.inspect()).State.ExitCode).toBe(0);
    expect((await appliance.logs()).match(/TURN server exited/g)).toHaveLength(1);
    // Warnings come from the start, not from TURN's restart.
    expect((await appliance.logs()).match(/not known to be published/g)).toHaveLength(1);
  });
});
