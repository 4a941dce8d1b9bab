import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { waitFor } from "../../test-support/wait-for.js";
import { startProsody, stopProsody } from "./start-prosody.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "start-prosody-test-"));
  chmodSync(dir, 0o777); // the stand-in runs as the prosody uid
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
});
const started: ReturnType<typeof startProsody>[] = [];
afterEach(() => {
  for (const prosody of started.splice(0)) prosody.child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("stopProsody", () => {
  it("should stop Prosody with SIGTERM and wait for it, so that it shuts down cleanly", async () => {
    const ready = join(dir, "ready");
    const stopped = join(dir, "stopped");
    // A stand-in for Prosody that takes a moment to shut down cleanly on SIGTERM.
    const script = `trap 'sleep 0.3; echo clean > ${stopped}; exit 0' TERM; : > ${ready}; while :; do sleep 0.05; done`;
    const prosody = startProsody({ command: ["sh", "-c", script] });
    started.push(prosody);
    await waitFor("the stand-in to start", () => existsSync(ready));

    await stopProsody();

    expect(readFileSync(stopped, "utf8")).toBe("clean\n");
    expect(await prosody.exited).toBe(0);
  });

  it("should kill a Prosody that does not stop within the grace time", async () => {
    const ready = join(dir, "ready");
    const prosody = startProsody({ command: ["sh", "-c", `trap '' TERM; : > ${ready}; while :; do sleep 0.05; done`] });
    started.push(prosody);
    await waitFor("the stand-in to start", () => existsSync(ready));

    await stopProsody(200);

    expect(await prosody.exited).toBe(137);
  });
});

describe("reload", () => {
  it("should hold SIGHUP back until Prosody handles it, instead of killing a Prosody still starting", async () => {
    const ready = join(dir, "ready");
    const hangups = join(dir, "hangups");
    const script = `sleep 0.5; trap 'echo hup >> ${hangups}' HUP; : > ${ready}; while :; do sleep 0.05; done`;
    const prosody = startProsody({ command: ["sh", "-c", script] });
    started.push(prosody);

    prosody.reload();

    await waitFor("the stand-in to handle the SIGHUP", () => existsSync(hangups));
    expect(readFileSync(hangups, "utf8")).toBe("hup\n");
    expect(prosody.child.exitCode).toBe(null);
  });
});

