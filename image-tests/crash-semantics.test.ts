import { afterAll, describe, expect, it } from "vitest";
import { createTestVolume, prosodyPid, removeTestVolume, startAppliance } from "./helpers/appliance.js";
import { letsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { c2sPort, dockerTimeNs, restarted, runAndWaitForDie } from "./helpers/restart-policy.js";
import { waitFor } from "../test-support/wait-for.js";
import { connectClient, xml } from "../test-support/xmpp/connect-client.js";

const DOMAIN = "example.org";

/**
 * The entrypoint: the one process whose command line starts with node (tini's names
 * start-appliance first; the early Prosody's waiter is bash, with start-appliance's command line).
 */
const ENTRYPOINT_PID = `for p in /proc/[0-9]*; do case "$(tr '\\0' ' ' < $p/cmdline)" in node\\ *) echo \${p#/proc/};; esac; done`;

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
    const prosody = await runAndWaitForDie(appliance, `kill -KILL ${await prosodyPid(appliance)}`);
    expect(prosody.code).toBe(137);
    await restarted(appliance, 1);

    await offline("before the entrypoint was killed");
    const [entrypoint, ...others] = (await appliance.exec(["sh", "-c", ENTRYPOINT_PID])).stdout.trim().split("\n").map(Number);
    expect(others).toEqual([]);
    const node = await runAndWaitForDie(appliance, `kill -KILL ${entrypoint!}`);
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
