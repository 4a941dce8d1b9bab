import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startAppliance } from "./helpers/appliance.js";
import { waitFor } from "../test-support/wait-for.js";

describe("your own Prosody settings in /etc/prosody/conf.d", () => {
  it("should be read: global lines stay global, and a VirtualHost section adds to the generated host", async () => {
    const dir = mkdtempSync(join(tmpdir(), "conf.d-"));
    chmodSync(dir, 0o755);
    try {
      writeFileSync(
        join(dir, "local.cfg.lua"),
        'motd_text = "Bienvenue sur le serveur"\n\nVirtualHost "example.org"\n    welcome_message = "Salut !"\n',
        { mode: 0o644 },
      );
      await using appliance = await startAppliance({ binds: [`${dir}:/etc/prosody/conf.d:ro`] });
      const get = async (host: string, key: string) =>
        (await appliance.exec(["prosodyctl", "shell", `config:get("${host}", "${key}")`])).stdout.trim();
      expect(await get("*", "motd_text")).toBe('OK: "Bienvenue sur le serveur"');
      expect(await get("example.org", "welcome_message")).toBe('OK: "Salut !"');
      // The generated host section still applies after the user's lines.
      expect(await get("example.org", "ssl")).toContain("/var/lib/prosody/self-signed/example.org.crt");
      expect((await appliance.exec(["prosodyctl", "check", "config"])).exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Prosody's garbage collector", () => {
  // Which collector runs, read without changing it: switching returns the previous mode.
  const collectorOf = async (appliance: { exec(cmd: string[]): Promise<{ stdout: string }> }) =>
    (await appliance.exec(["prosodyctl", "shell", '> local m = collectgarbage("incremental", 0, 0, 0); collectgarbage(m, 0, 0); return m'])).stdout.trim();

  it("should be Prosody's own default (incremental) once started, though the start runs generational", async () => {
    await using appliance = await startAppliance();
    expect(await collectorOf(appliance)).toBe("Result: incremental");
  });

  it("should stay the one a conf.d file sets", async () => {
    const dir = mkdtempSync(join(tmpdir(), "conf.d-"));
    chmodSync(dir, 0o755);
    try {
      writeFileSync(join(dir, "gc.cfg.lua"), 'gc = { mode = "generational" }\n', { mode: 0o644 });
      await using appliance = await startAppliance({ binds: [`${dir}:/etc/prosody/conf.d:ro`] });
      expect(await collectorOf(appliance)).toBe("Result: generational");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a broken conf.d", () => {
  it.each([
    { problem: "a Lua syntax error", file: 'motd_text = = "oops"\n', mode: 0o644, message: /local\.cfg\.lua is not valid Lua: .*local\.cfg\.lua:1: unexpected symbol near '='/ },
    { problem: "a file Prosody cannot read", file: 'motd_text = "hidden"\n', mode: 0o600, message: /local\.cfg\.lua cannot be read by Prosody: it is 0600 \S+, not readable by prosody/ },
    { problem: "a directory Prosody cannot list", file: 'motd_text = "hidden"\n', mode: 0o644, dirMode: 0o700, message: /conf\.d \(0700 0:0\) cannot be listed by Prosody \(uid 101\)\. Accepted: a directory Prosody can read, e\.g\. chmod 0755\./ },
  ])("should stop the container with 78 and name the file for $problem", async ({ file, mode, dirMode, message }) => {
    const dir = mkdtempSync(join(tmpdir(), "conf.d-"));
    chmodSync(dir, dirMode ?? 0o755);
    try {
      writeFileSync(join(dir, "local.cfg.lua"), file);
      chmodSync(join(dir, "local.cfg.lua"), mode);
      await using appliance = await startAppliance({ binds: [`${dir}:/etc/prosody/conf.d:ro`], waitUntil: "started" });
      expect(await appliance.exited()).toBe(78);
      const logs = await appliance.logs();
      expect(logs).toMatch(message);
      expect(logs).not.toContain("Hello and welcome to Prosody");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a conf.d that keeps one of Prosody's listeners from opening", () => {
  it("should never report healthy, and name the listener that is missing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "conf.d-"));
    chmodSync(dir, 0o755);
    try {
      // Server-to-server direct TLS on the server-to-server port: the second of the two cannot open.
      writeFileSync(join(dir, "local.cfg.lua"), "s2s_direct_tls_ports = { 5269 }\n", { mode: 0o644 });
      await using appliance = await startAppliance({ binds: [`${dir}:/etc/prosody/conf.d:ro`], waitUntil: "started" });
      await waitFor("Prosody to say a port is taken twice", async () => (await appliance.logs()).includes("Multiple services configured to listen on the same port"), { timeoutMs: 60_000 });
      const health = await waitFor("the health check to answer", async () => {
        const answer = await appliance.exec(["appliance-healthcheck"]);
        return (answer.exitCode === 0 || answer.stderr.includes("HTTP/")) && answer;
        // docker exec alone takes seconds on a busy machine.
      }, { timeoutMs: 30_000 });
      expect(health.exitCode).toBe(1);
      expect(health.stderr).toMatch(/^unhealthy: HTTP\/1\.[01] 503 Service Unavailable s2s_direct_tls not listening on port 5269\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
