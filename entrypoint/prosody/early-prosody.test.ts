import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimEarlyProsody, initgroupsOf } from "./early-prosody.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "early-prosody-test-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const HARNESS = join(import.meta.dirname, "../../test-support/early-prosody-harness.ts");
const LAUNCHER = join(import.meta.dirname, "../../server/start-appliance");

/**
 * server/start-appliance with `stand-in` (a shell script) in place of the early Prosody's
 * command, running the harness instead of Node's entrypoint, which hands over to the stand-in
 * with `options` (`command`: the stand-in's own command line unless given).
 */
function run(standIn: string, options: Record<string, unknown> = {}): Record<string, unknown> {
  const launcher = readFileSync(LAUNCHER, "utf8");
  const early = /^  setpriv --no-new-privs --reset-env -- \\\n(?:    .*\\\n)+/m;
  if (!early.test(launcher)) throw new Error(`server/start-appliance no longer starts the early Prosody as this test expects:\n${launcher}`);
  const script = join(dir, "start-appliance");
  writeFileSync(script, launcher.replace(early, '  sh -c "$STAND_IN" \\\n'), { mode: 0o755 });
  const result = spawnSync(script, ["node", "--import", "tsx", HARNESS, JSON.stringify({ command: "stand-in", ...options })], {
    encoding: "utf8",
    timeout: 20_000,
    env: { ...process.env, STAND_IN: standIn },
  });
  if (result.status !== 0) throw new Error(`the harness failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
}

/** The stand-in writes the line it was given (or "end of input") to a file, then exits `code`. */
function recorder(code: number): string {
  return `if read -r line; then echo "$line"; else echo "end of input"; fi > ${join(dir, "line")}; exit ${code}`;
}

const received = () => readFileSync(join(dir, "line"), "utf8").trim();

describe("handOver", () => {
  it("should tell the early Prosody to start and report its exit status, as a spawned child's", () => {
    const outcome = run(recorder(3));
    expect(outcome).toMatchObject({ claimed: true, code: 3, signal: null, inherited: false, envLeft: false });
    expect(received()).toBe("start");
  });

  it("should report the signal that ended it", () => {
    const outcome = run(`read -r line; kill -KILL $$`);
    expect(outcome).toMatchObject({ code: null, signal: "SIGKILL" });
  });

  it("should name the account and the groups it must take, as root, when /etc/group gives exactly those", () => {
    const groupFile = join(dir, "group");
    writeFileSync(groupFile, "prosody:x:101:\ncerts:x:4242:prosody\nssl-cert:x:102:\n");
    const outcome = run(recorder(0), { identity: { name: "prosody", uid: 101, gid: 101, groups: [4242, 101] }, groupFile });
    expect(outcome).toMatchObject({ code: 0 });
    expect(received()).toBe("start 101 101 101,4242");
  });

  it("should not use it, and end it, when /etc/group would give other groups (a read-only root)", () => {
    const groupFile = join(dir, "group");
    writeFileSync(groupFile, "prosody:x:101:\ncerts:x:990:prosody\n");
    const outcome = run(recorder(0), { identity: { name: "prosody", uid: 101, gid: 101, groups: [101, 4242] }, groupFile });
    expect(outcome).toMatchObject({ refused: `${groupFile} gives prosody the groups 101,990, not 101,4242`, ended: true });
    expect(received()).toBe("end of input");
  });

  it("should not use a process that runs another command, and end it", () => {
    const outcome = run(recorder(0), { command: ["lua5.4", "early-prosody.lua"] });
    expect(outcome.refused).toMatch(/^pid \d+ runs "sh -c if read -r line; .*", not "lua5.4 early-prosody.lua"$/);
    expect(outcome.ended).toBe(true);
    expect(received()).toBe("end of input");
  });

  it("should not use one that has already ended", () => {
    const outcome = run(`exit 4`);
    expect(outcome.refused).toBe("it has ended (exit 4)");
  });
});

describe("claimEarlyProsody", () => {
  it("should take nothing from an environment without a valid early Prosody, and remove the variable", () => {
    // 900 and 901: not open here.
    for (const value of [undefined, "", "12", "12 x", "12 3 4", "-1 3", "900 901"]) {
      const env: NodeJS.ProcessEnv = value === undefined ? {} : { APPLIANCE_EARLY_PROSODY: value };
      expect(claimEarlyProsody(env)).toBeUndefined();
      expect(env).toEqual({});
    }
  });
});

describe("initgroupsOf", () => {
  it("should give the primary group and every group that lists the account as a member", () => {
    const groupFile = join(dir, "group");
    writeFileSync(groupFile, "root:x:0:\nprosody:x:101:\ncerts:x:990:prosody\nother:x:5:alice,prosody,bob\nnear:x:6:prosodyx\n");
    expect(initgroupsOf("prosody", 101, groupFile)).toEqual([5, 101, 990]);
  });
});
