import { afterAll, describe, expect, it } from "vitest";
import { createTestVolume, removeTestVolume, startAppliance } from "./helpers/appliance.js";
import { FAULT_TAKEN, FAULT_TRIGGER, entrypointWithFault } from "./helpers/injected-fault.js";
import { letsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { c2sPort, restarted, runAndWaitForDie } from "./helpers/restart-policy.js";
import { waitFor } from "../test-support/wait-for.js";
import { connectClient, xml } from "../test-support/xmpp/connect-client.js";

const DOMAIN = "example.org";

/** Prosody's own lines when it shuts down on SIGTERM: it closed its sessions and storage itself. */
const CLEAN_SHUTDOWN = [
  "startup warn Received SIGTERM",
  "startup info Shutting down: Received SIGTERM",
  "general info Shutdown status: Cleaning up",
  "general info Shutdown complete",
];

/** Prosody's lines from the first line containing `from` on, without their padding. */
function prosodyLines(logs: string, from: string): string[] {
  return logs
    .slice(logs.indexOf(from))
    .split("\n")
    .map((line) => line.replace(/\s+/g, " ").trim())
    .filter((line) => /^(startup|general) (debug|info|warn|error) /.test(line));
}

// Two independent containers: side by side, the file takes the time of the longer one.
describe.concurrent("faults in the entrypoint", () => {
  describe("an uncaught error in the entrypoint", () => {
    const volume = `appliance-test-fault-${process.pid}-${Date.now().toString(36)}`;
    afterAll(() => removeTestVolume(volume));

    it("should stop Prosody cleanly, exit 1 at once with the error logged once, and come back with every offline message", async () => {
      using le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN] }]);
      await createTestVolume(volume);
      await using appliance = await startAppliance({
        binds: [le.bind],
        dataVolume: volume,
        entrypoint: await entrypointWithFault(`throw new Error("injected fault");`),
        hostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 2 } },
      });
      const login = async (username: string) =>
        connectClient({ port: await c2sPort(appliance), mode: "starttls", domain: DOMAIN, username, password: `pw-${username}`, caPem: le.ca.root.certPem });
      for (const user of ["alice", "carol"]) {
        expect((await appliance.exec(["prosodyctl", "adduser", `${user}@${DOMAIN}`], { stdin: `pw-${user}\npw-${user}\n` })).exitCode).toBe(0);
      }
      {
        await using alice = await login("alice");
        await alice.send(`carol@${DOMAIN}`, "before the entrypoint failed");
        await alice.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      }

      const died = await runAndWaitForDie(appliance, `touch ${FAULT_TRIGGER}`);
      const logs = await appliance.logs();
      expect(died.code, logs).toBe(1);
      // Prosody stopped on the entrypoint's SIGTERM, well inside the grace time it is given before a SIGKILL.
      expect(died.ms, logs).toBeLessThan(5_000);
      const failure = logs.slice(logs.indexOf("unexpected failure"));
      expect(logs.match(/appliance error unexpected failure: Error: injected fault\n/g), logs).toHaveLength(1);
      // Docker copies stdout (Prosody) and stderr (the entrypoint) separately, so their order in
      // the log is not certain: Prosody's shutdown lines are looked for in the whole log.
      expect(prosodyLines(logs, ""), logs).toEqual(expect.arrayContaining(CLEAN_SHUTDOWN));
      expect(failure).toContain("stopping Prosody");
      expect(failure).not.toContain("did not stop within");

      await restarted(appliance, 1);
      await using carol = await login("carol");
      expect((await carol.waitForMessage((m) => m.body === "before the entrypoint failed")).body).toBe("before the entrypoint failed");
    }, 180_000);
  });

  describe("a stuck event loop in the entrypoint", () => {
    it("should stop Prosody cleanly and end the container, before docker stop's 10 s are up", async () => {
      await using appliance = await startAppliance({ entrypoint: await entrypointWithFault("for (;;) {}") });
      const died = runAndWaitForDie(appliance, `touch ${FAULT_TRIGGER}`);
      // The fault leaves its mark just before it starts its endless loop.
      await waitFor("the entrypoint to take the fault", async () => (await appliance.exec(["test", "-e", FAULT_TAKEN])).exitCode === 0, { intervalMs: 20 });
      // docker stop's SIGTERM reaches only the entrypoint, which cannot run its handler any more.
      await appliance.container.stop({ t: 10 });
      const { code, ms } = await died;
      const stuck = "appliance error the entrypoint's event loop has not answered for 5 s: stopping Prosody";
      // Docker may still be writing the last lines to the log when the die event arrives, and it
      // copies stdout (Prosody) and stderr (the watchdog) separately: under load Prosody's
      // shutdown lines can come before the watchdog's line. The container stops only once.
      const shutDown = (text: string) => CLEAN_SHUTDOWN.every((line) => prosodyLines(text, "").includes(line));
      const logs = await waitFor("Prosody's shutdown lines in the log", async () => {
        const text = await appliance.logs();
        return shutDown(text) ? text : undefined;
      }, { timeoutMs: 5_000, intervalMs: 200 }).catch(() => appliance.logs());
      // The watchdog killed the stuck entrypoint (SIGKILL) once Prosody had stopped.
      expect(code, logs).toBe(137);
      expect(ms, logs).toBeLessThan(10_000);
      expect(logs).toContain(stuck);
      expect(prosodyLines(logs, ""), logs).toEqual(expect.arrayContaining(CLEAN_SHUTDOWN));
    });
  });
});
