import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { waitFor } from "../../test-support/wait-for.js";
import { handles, startProsody, stopProsody } from "./start-prosody.js";

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


describe("handles", () => {
  /** Runs `sleep` under `name`, with `blocked` signals blocked, as a signalfd reader does. */
  async function sleeper(name: string, blocked: string[]): Promise<number> {
    const program = join(dir, name);
    symlinkSync("/bin/sleep", program);
    const mask = blocked.length ? `sigprocmask(SIG_BLOCK, POSIX::SigSet->new(${blocked.join(", ")}));` : "";
    const child = spawn("perl", ["-MPOSIX", "-e", `${mask} exec {"${program}"} "${name}", "5"`], { stdio: "ignore" });
    children.push(child);
    const pid = child.pid!;
    await waitFor(`perl to exec ${name}`, () => readFileSync(`/proc/${pid}/status`, "utf8").includes(`Name:\t${name}\n`));
    return pid;
  }
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
  });
  const ownName = () => /^Name:\t(.*)$/m.exec(readFileSync("/proc/self/status", "utf8"))![1]!;

  it("should count a signal blocked by a program of its own, as Prosody blocks the signals it reads", async () => {
    const pid = await sleeper("lua5.4", ["SIGUSR1"]);
    expect(handles(pid, "SIGUSR1")).toBe(true);
    expect(handles(pid, "SIGUSR2")).toBe(false);
  });

  it("should not count a signal blocked by a child that has not exec'd yet, as libuv's child blocks all between fork and exec", async () => {
    const pid = await sleeper(ownName(), ["SIGUSR1"]);
    expect(handles(pid, "SIGUSR1")).toBe(false);
  });

  it("should not count a signal blocked along with every other, as a program blocks them all for a moment around a fork", async () => {
    const every = Array.from({ length: 31 }, (_, n) => String(n + 1)).filter((n) => n !== "9" && n !== "19");
    const pid = await sleeper("lua5.4", every);
    expect(handles(pid, "SIGHUP")).toBe(false);
    expect(handles(pid, "SIGUSR1")).toBe(false);
  });

  it("should count a caught signal whatever the child is named", async () => {
    expect(handles(process.pid, "SIGUSR2")).toBe(false);
    const listener = () => {};
    process.on("SIGUSR2", listener);
    try {
      expect(handles(process.pid, "SIGUSR2")).toBe(true);
    } finally {
      process.off("SIGUSR2", listener);
    }
  });
});

describe("forwarding", () => {
  it("should hold SIGUSR1 back until Prosody handles it, instead of killing a Prosody still starting", async () => {
    const ready = join(dir, "ready");
    const usr1 = join(dir, "usr1");
    const script = `sleep 0.5; trap 'echo usr1 >> ${usr1}' USR1; : > ${ready}; while :; do sleep 0.05; done`;
    const prosody = startProsody({ command: ["sh", "-c", script] });
    started.push(prosody);

    process.emit("SIGUSR1", "SIGUSR1");

    await waitFor("the stand-in to handle the SIGUSR1", () => existsSync(usr1));
    expect(readFileSync(usr1, "utf8")).toBe("usr1\n");
    expect(prosody.child.exitCode).toBe(null);
    expect(prosody.child.signalCode).toBe(null);
  });

  it("should send SIGTERM at once, since ending a Prosody still starting is what it asks", async () => {
    const prosody = startProsody({ command: ["sh", "-c", "sleep 0.5; trap 'exit 0' TERM; while :; do sleep 0.05; done"] });
    started.push(prosody);
    await waitFor("the stand-in to run", () => existsSync(`/proc/${prosody.child.pid}`) && !readFileSync(`/proc/${prosody.child.pid}/status`, "utf8").includes("Name:\tnode"));

    process.emit("SIGTERM", "SIGTERM");

    expect(await prosody.exited).toBe(143);
  });
});
