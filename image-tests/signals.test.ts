import { describe, expect, it } from "vitest";
import { prosodyPid, startAppliance, waitUntilReady, type Appliance } from "./helpers/appliance.js";
import { sleep, waitFor } from "../test-support/wait-for.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";

/** The domain and its services (group chat, file sharing, file-transfer proxy), each a Prosody host. */
const RELOADED_HOSTS = ["example.org", "conference.example.org", "upload.example.org", "proxy.example.org"];

describe("signals", () => {
  it("should re-check certificates and reload Prosody on SIGHUP, and keep serving", async () => {
    await using appliance = await startAppliance();
    const hangup = "SIGHUP: checking certificates and reloading Prosody";
    expect(await appliance.logs()).not.toContain("Received SIGHUP");
    await appliance.container.kill({ signal: "SIGHUP" });
    // Prosody's own lines: it got the signal from the entrypoint, re-read its config, reloaded TLS.
    const afterHangup = await waitFor("Prosody to log that it reloaded its certificates after SIGHUP", async () => {
      const logs = await appliance.logs();
      const after = logs.includes(hangup) ? logs.slice(logs.lastIndexOf("\n", logs.indexOf(hangup)) + 1) : "";
      return (after.match(/Certificates reloaded/g) ?? []).length >= RELOADED_HOSTS.length && after;
    });
    const reloadLines = afterHangup.split("\n").filter((line) => /SIGHUP|Reloading configuration|Certificates reloaded/.test(line));
    const said = reloadLines.map((line) => line.replace(/\s+/g, " ").trim());
    expect(said.slice(0, 3)).toEqual([`appliance info ${hangup}`, "startup info Received SIGHUP", "startup info Reloading configuration file"]);
    // Every host reloads its own TLS context; Prosody walks its hosts in no fixed order.
    expect(said.slice(3).sort()).toEqual(RELOADED_HOSTS.map((host) => `${host}:tls info Certificates reloaded`).sort());
    expect((await appliance.container.inspect()).State.Running).toBe(true);
    const served = await servedCertificate({ port: appliance.port(5223), mode: "direct-tls", domain: "example.org", sni: true });
    expect(served.subjectAltName).toContain("DNS:example.org");
  });

  it("should end the container with 128 + 9 when Prosody is killed by SIGKILL", async () => {
    await using appliance = await startAppliance();
    const pid = await prosodyPid(appliance);
    expect((await appliance.exec(["sh", "-c", `kill -KILL ${pid}`])).exitCode).toBe(0);
    expect(await appliance.exited()).toBe(137);
    expect(await appliance.logs()).toContain("Prosody exited with status 137");
  });

  it("should stop with 0 on SIGINT, as on SIGTERM", async () => {
    await using appliance = await startAppliance();
    await appliance.container.kill({ signal: "SIGINT" });
    expect(await appliance.exited()).toBe(0);
  });

  it("should survive SIGHUP sent while it is still starting, before certificates are watched", async () => {
    await using appliance = await startAppliance({ waitUntil: "started" });
    await untilEntrypointLogs(appliance);
    await waitFor("certificates to be watched, sending SIGHUP meanwhile", async () => {
      if ((await appliance.logs()).includes("appliance info  watch certificates")) return true;
      await appliance.container.kill({ signal: "SIGHUP" });
      return false;
      // The watcher starts once Prosody serves: after Prosody's whole start, which is slow on a busy machine.
    }, { intervalMs: 20, timeoutMs: 60_000 });
    await waitUntilReady(appliance);
    // Started from its snapshot, the entrypoint may reach the watcher before a SIGHUP lands: either
    // way one reload was done (a held one once certificates are watched).
    await waitFor("a reload for the SIGHUP", async () => (await appliance.logs()).includes("appliance info  SIGHUP: checking certificates and reloading Prosody"));
    expect((await appliance.container.inspect()).State.Running).toBe(true);
  });

  it("should never open Node's inspector on SIGUSR1, while starting or once Prosody runs", async () => {
    await using appliance = await startAppliance({ waitUntil: "started" });
    await untilEntrypointLogs(appliance);
    await appliance.container.kill({ signal: "SIGUSR1" });
    await waitUntilReady(appliance);
    await appliance.container.kill({ signal: "SIGUSR1" });
    await sleep(500);
    // 9229 is 240D in /proc/net/tcp; 0A is LISTEN.
    const listeners = await appliance.exec(["sh", "-c", "cat /proc/net/tcp /proc/net/tcp6 | grep -i ':240D [0-9A-F:]* 0A' || true"]);
    expect(listeners.stdout).toBe("");
    expect(await appliance.logs()).not.toContain("Debugger listening");
    expect((await appliance.container.inspect()).State.Running).toBe(true);
  });
});

/** Resolves once the entrypoint runs its own code: signals before that meet Node's bootstrap. */
async function untilEntrypointLogs(appliance: Appliance): Promise<void> {
  await waitFor("the entrypoint's first log line", async () => (await appliance.logs()).includes("appliance "), { intervalMs: 20 });
}
