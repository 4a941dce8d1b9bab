import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "watchdog-test-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs a stand-in entrypoint in its own Node (the watchdog kills its parent): it starts a
 * stand-in Prosody that writes "clean" on SIGTERM, starts the watchdog, and after 300 ms runs `then`.
 */
function standIn(then: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const script = join(dir, "stand-in.mts");
  writeFileSync(
    script,
    `import { spawn } from "node:child_process";
import { watchEventLoop } from ${JSON.stringify(join(import.meta.dirname, "watchdog.ts"))};
const prosody = spawn("sh", ["-c", "trap 'echo clean > ${join(dir, "stopped")}; exit 0' TERM; while :; do sleep 0.05; done"], { stdio: "inherit" });
const stop = watchEventLoop(prosody.pid!, { silenceS: 1, stopS: 3, intervalMs: 100 });
setTimeout(() => { ${then} }, 300);
`,
  );
  const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "inherit", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  return new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stderr })));
}

describe("watchEventLoop", () => {
  it("should stop Prosody cleanly and kill the entrypoint once its event loop is stuck", async () => {
    const ended = await standIn("for (;;) {}");

    expect(ended.signal, `exit ${ended.code}: ${ended.stderr}`).toBe("SIGKILL");
    expect(readFileSync(join(dir, "stopped"), "utf8")).toBe("clean\n");
    expect(ended.stderr).toMatch(/^appliance error the entrypoint's event loop has not answered for 2 s: stopping Prosody \(pid \d+\) and ending the container\n$/m);
  }, 20_000);

  it("should leave an entrypoint whose loop runs alone, and end when stopped", async () => {
    const ended = await standIn("setTimeout(() => { stop(); prosody.kill('SIGKILL'); }, 2_500);");

    expect(ended).toEqual({ code: 0, signal: null, stderr: "" });
    expect(existsSync(join(dir, "stopped"))).toBe(false);
  }, 20_000);
});
