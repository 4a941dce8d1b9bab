import { afterAll, describe, expect, it } from "vitest";
import { createTestVolume, prosodyPid, removeTestVolume, startAppliance, waitUntilReady, type Appliance } from "./helpers/appliance.js";
import { letsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { docker } from "../test-support/docker-engine.js";
import { waitFor } from "../test-support/wait-for.js";
import { connectClient, xml } from "../test-support/xmpp/connect-client.js";

const DOMAIN = "example.org";

/** The entrypoint: Node, started by tini (PID 1, whose own command line names node after "--"). */
const ENTRYPOINT_PID = `for p in /proc/[0-9]*; do case "$(tr '\\0' ' ' < $p/cmdline)" in node\\ *) echo \${p#/proc/};; esac; done`;

/** The 127.0.0.1 port 5222 is published on now: Docker may pick another one when it restarts the container. */
async function c2sPort(appliance: Appliance): Promise<number> {
  return Number((await appliance.container.inspect()).NetworkSettings.Ports["5222/tcp"]?.[0]?.HostPort);
}

/**
 * Sends SIGKILL to `pid` and resolves with the container's exit code and how long it took to exit:
 * from the kill, as the container's clock saw it, to Docker's "die" event (one host clock). The
 * event carries the exit code itself: under a restart policy the container may already run again
 * (exit code reset to 0) by the time a `wait` answer or an inspect is read.
 */
async function killAndWaitForExit(appliance: Appliance, pid: number): Promise<{ code: number; ms: number }> {
  const since = Math.floor(Date.now() / 1000) - 1;
  const killed = await appliance.exec(["sh", "-c", `date +%s%N; kill -KILL ${pid}`]);
  expect(killed.exitCode).toBe(0);
  const killedNs = BigInt(killed.stdout.trim());
  let die: { exitCode: number; timeNano: bigint } | undefined;
  await waitFor(`Docker's "die" event for the container after the kill of pid ${pid}`, async () => {
    const stream = await docker.getEvents({
      since,
      until: Math.floor(Date.now() / 1000) + 1,
      filters: { container: [appliance.container.id], event: ["die"] },
    });
    const text = await new Promise<string>((resolve, reject) => {
      let all = "";
      stream.on("data", (chunk: Buffer) => (all += chunk.toString("utf8")));
      stream.on("end", () => resolve(all));
      stream.on("error", reject);
    });
    for (const line of text.split("\n").filter(Boolean)) {
      const event = JSON.parse(line) as { timeNano: number | string; Actor: { Attributes: Record<string, string> } };
      const timeNano = BigInt(event.timeNano);
      if (timeNano >= killedNs) die = { exitCode: Number(event.Actor.Attributes.exitCode), timeNano };
    }
    return die !== undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  return { code: die!.exitCode, ms: Number(die!.timeNano - killedNs) / 1e6 };
}

/** Docker's RFC 3339 timestamps (nanoseconds, UTC) as nanoseconds since the epoch. */
function dockerTimeNs(timestamp: string): bigint {
  const fraction = (/\.(\d+)/.exec(timestamp)?.[1] ?? "").padEnd(9, "0");
  return BigInt(Date.parse(`${timestamp.slice(0, 19)}Z`)) * 1_000_000n + BigInt(fraction);
}

async function restarted(appliance: Appliance, count: number): Promise<void> {
  await waitFor(`Docker's restart policy to start the container again (restart ${count})`, async () => {
    const state = await appliance.container.inspect();
    return state.RestartCount >= count && state.State.Running;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  await waitUntilReady(appliance);
}

describe("crashes under a restart policy", () => {
  const volume = `appliance-test-crash-${process.pid}-${Date.now().toString(36)}`;
  afterAll(() => removeTestVolume(volume));

  it("should exit non-zero when Prosody or the entrypoint is killed, and come back with every account and offline message", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }]);
    await createTestVolume(volume);
    await using appliance = await startAppliance({
      binds: [le.bind],
      dataVolume: volume,
      hostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 5 } },
    });
    const login = async (username: string) =>
      connectClient({ port: await c2sPort(appliance), mode: "starttls", domain: DOMAIN, username, password: `pw-${username}`, caPem: le.ca.root.certPem });
    for (const user of ["alice", "carol"]) {
      expect((await appliance.exec(["prosodyctl", "adduser", `${user}@${DOMAIN}`], { stdin: `pw-${user}\npw-${user}\n` })).exitCode).toBe(0);
    }
    const offline = async (body: string) => {
      await using alice = await login("alice");
      await alice.send(`carol@${DOMAIN}`, body);
      // Stored before Prosody is killed: an answered ping comes after the message is handled.
      await alice.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    };

    await offline("before Prosody was killed");
    const prosody = await killAndWaitForExit(appliance, await prosodyPid(appliance));
    expect(prosody.code).toBe(137);
    await restarted(appliance, 1);

    await offline("before the entrypoint was killed");
    const [entrypoint, ...others] = (await appliance.exec(["sh", "-c", ENTRYPOINT_PID])).stdout.trim().split("\n").map(Number);
    expect(others).toEqual([]);
    const node = await killAndWaitForExit(appliance, entrypoint!);
    // tini exits with the entrypoint's status and the kernel ends the rest of the container with it:
    // no Prosody is ever left running without the entrypoint.
    expect(node.code).toBe(137);
    expect(node.ms).toBeLessThan(2_000);
    await restarted(appliance, 2);

    await using carol = await login("carol");
    expect((await carol.waitForMessage((m) => m.body === "before Prosody was killed")).body).toBe("before Prosody was killed");
    expect((await carol.waitForMessage((m) => m.body === "before the entrypoint was killed")).body).toBe("before the entrypoint was killed");
  }, 240_000); // three starts of the appliance: one and two restarts
});

describe("docker stop during a renewal", () => {
  it("should stop cleanly with 0 in under 2 s", async () => {
    using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }]);
    await using appliance = await startAppliance({ binds: [le.bind] });
    await waitFor("certificates to be watched", async () => (await appliance.logs()).includes("appliance info  watch certificates: "));
    const renewal = le.tree.renew(DOMAIN, { delayMs: 20 });
    // Past the 100 ms quiet period: the check, Prosody's reload and the listeners' probes are under way.
    await waitFor("the renewal to reach Prosody", async () => (await appliance.logs()).includes("Reloading configuration file"), { intervalMs: 20 });
    await appliance.container.stop({ t: 10 });
    await renewal;
    // 0: Prosody stopped on SIGTERM and Docker never had to kill it.
    expect(await appliance.exited()).toBe(0);
    const logs = ((await appliance.container.logs({ stdout: true, stderr: true, timestamps: true })) as unknown as Buffer).toString("utf8");
    const sigterm = /(\d{4}-\d\d-\d\dT[\d:.]+Z) [^\n]*Received SIGTERM/.exec(logs);
    expect(sigterm, logs).not.toBeNull();
    // Timed inside the container, from Prosody's "Received SIGTERM" to the exit Docker recorded
    // (one host clock): Docker's own API round trips on a loaded machine are not the appliance's.
    const stopMs = Number(dockerTimeNs((await appliance.container.inspect()).State.FinishedAt) - dockerTimeNs(sigterm![1]!)) / 1e6;
    expect(stopMs, logs.slice(logs.indexOf("Reloading configuration file"))).toBeLessThan(2_000);
    expect(logs).toContain("Prosody exited with status 0");
  });
});
