// Run by entrypoint/prosody/early-prosody.test.ts as server/start-appliance runs the entrypoint:
// exec'd by it after it started a stand-in early Prosody. argv: JSON of handOver's options, where
// `command` may be "stand-in" for the stand-in's own command line. Prints one JSON line: what
// handOver returned and, when adopted, how the process ended.
import { readFileSync, readlinkSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { claimEarlyProsody, handOver, type HandOverOptions } from "../entrypoint/prosody/early-prosody.js";

const options = JSON.parse(process.argv[2] ?? "{}") as HandOverOptions & { command: string[] | "stand-in" };
const early = claimEarlyProsody();
if (!early) {
  console.log(JSON.stringify({ claimed: false }));
  process.exit(0);
}
const pipes = [readlinkSync(`/proc/self/fd/${early.start}`), readlinkSync(`/proc/self/fd/${early.status}`)];
// What a process started now inherits: neither pipe may be among its descriptors.
const child = spawnSync("sh", ["-c", "for fd in /proc/$$/fd/*; do readlink $fd; done"], { encoding: "utf8" });
const inherited = child.stdout.split("\n").some((link) => pipes.includes(link));
const envLeft = process.env.APPLIANCE_EARLY_PROSODY !== undefined;
const command = options.command === "stand-in" ? ["sh", "-c", process.env.STAND_IN!] : options.command;
const taken = handOver(early, { ...options, command });
if (typeof taken === "string") {
  // A refused early Prosody ends (end of input), and its waiter with it: wait for the waiter.
  const waiter = readFileSync(`/proc/self/task/${process.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  const deadline = Date.now() + 5_000;
  const alive = () => waiter.some((pid) => { try { return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8")); } catch { return false; } });
  while (alive() && Date.now() < deadline) spawnSync("sleep", ["0.01"]);
  console.log(JSON.stringify({ claimed: true, inherited, envLeft, refused: taken, ended: !alive() }));
  process.exit(0);
}
taken.once("exit", (code: number | null, signal: string | null) => {
  console.log(JSON.stringify({ claimed: true, inherited, envLeft, pid: taken.pid, code, signal }));
  process.exit(0);
});
