import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createFirstRunAccounts, listedAccounts, type ProsodyctlResult } from "./first-run-accounts.js";

const ADMIN = { jid: "alice@example.org", password: "alice pw", source: "XMPP_ADMIN_PASSWORD" };
const BOB = { jid: "bob@example.org", password: "bob pw", source: "XMPP_ACCOUNTS" };

describe("createFirstRunAccounts", () => {
  let dir: string;
  let markerPath: string;
  let logged: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "first-run-"));
    markerPath = join(dir, "first-run-accounts");
    logged = [];
    vi.spyOn(process.stdout, "write").mockImplementation((line) => (logged.push(String(line)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((line) => (logged.push(String(line)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A prosodyctl stand-in that knows which accounts exist, and records what it was given. */
  function fakeProsodyctl(existing: string[], failing: Record<string, string> = {}) {
    const inputs: string[] = [];
    const run = async (input: string): Promise<ProsodyctlResult> => {
      inputs.push(input);
      const lines = input.trim().split("\n").map((line) => {
        const jid = line.split("\t")[0]!;
        if (failing[jid]) return `failed ${jid} ${failing[jid]}`;
        if (existing.includes(jid)) return `exists ${jid}`;
        existing.push(jid);
        return `usermanager         info\tUser account created: ${jid}\ncreated ${jid}`;
      });
      return { exitCode: Object.keys(failing).length > 0 ? 1 : 0, output: `${lines.join("\n")}\n` };
    };
    return { run, inputs, existing };
  }

  it("should list the first admin, then XMPP_ACCOUNTS", () => {
    expect(listedAccounts({ admins: ["alice@example.org", "carol@example.org"], adminPassword: "alice pw", accounts: [{ jid: BOB.jid, password: BOB.password }] })).toEqual([
      ADMIN,
      BOB,
    ]);
    expect(listedAccounts({ admins: ["alice@example.org"], adminPassword: "", accounts: [] })).toEqual([]);
  });

  it("should create missing accounts, passing passwords on standard input and logging none", async () => {
    const prosodyctl = fakeProsodyctl([]);
    const summary = await createFirstRunAccounts([ADMIN, BOB], { markerPath, runProsodyctl: prosodyctl.run });
    expect(summary).toBe("2 created, 0 existed already, 0 failed");
    expect(prosodyctl.inputs).toEqual(["alice@example.org\talice pw\nbob@example.org\tbob pw\n"]);
    expect(logged).toEqual([
      "appliance info  account alice@example.org created with the password from XMPP_ADMIN_PASSWORD\n",
      "appliance info  account bob@example.org created with the password from XMPP_ACCOUNTS\n",
    ]);
    expect(readFileSync(markerPath, "utf8")).toMatch(/\nalice@example\.org\nbob@example\.org\n$/);
  });

  it("should leave an existing account as it is, and say so", async () => {
    const prosodyctl = fakeProsodyctl([ADMIN.jid]);
    expect(await createFirstRunAccounts([ADMIN], { markerPath, runProsodyctl: prosodyctl.run })).toBe("0 created, 1 existed already, 0 failed");
    expect(logged).toEqual([
      "appliance info  account alice@example.org exists: left as it is (XMPP_ADMIN_PASSWORD only creates it; change its password with prosodyctl passwd)\n",
    ]);
  });

  it("should not run prosodyctl again for accounts handled at an earlier start, even deleted ones", async () => {
    const prosodyctl = fakeProsodyctl([]);
    await createFirstRunAccounts([ADMIN], { markerPath, runProsodyctl: prosodyctl.run });
    prosodyctl.existing.length = 0; // the admin deleted the account meanwhile
    expect(await createFirstRunAccounts([ADMIN], { markerPath, runProsodyctl: prosodyctl.run })).toBe(`all 1 handled at an earlier start (${markerPath})`);
    expect(prosodyctl.inputs).toHaveLength(1);

    // An account added to the list later is created at the next start; the earlier one is not looked at.
    expect(await createFirstRunAccounts([ADMIN, BOB], { markerPath, runProsodyctl: prosodyctl.run })).toBe(
      "1 created, 0 existed already, 0 failed, 1 handled at an earlier start",
    );
    expect(prosodyctl.inputs.at(-1)).toBe("bob@example.org\tbob pw\n");
  });

  it("should log a failure and try that account again at the next start", async () => {
    const failing = fakeProsodyctl([], { [BOB.jid]: "storage full" });
    expect(await createFirstRunAccounts([ADMIN, BOB], { markerPath, runProsodyctl: failing.run })).toBe("1 created, 0 existed already, 1 failed");
    expect(logged.at(-1)).toBe("appliance error account bob@example.org (XMPP_ACCOUNTS) could not be created: storage full; tried again at the next start\n");
    const retried = fakeProsodyctl([ADMIN.jid]);
    await createFirstRunAccounts([ADMIN, BOB], { markerPath, runProsodyctl: retried.run });
    expect(retried.inputs).toEqual(["bob@example.org\tbob pw\n"]);
  });

  it("should name prosodyctl's status and output when it answers nothing usable", async () => {
    const broken = async (): Promise<ProsodyctlResult> => ({ exitCode: 1, output: "lua: cannot open config\n" });
    await createFirstRunAccounts([ADMIN], { markerPath, runProsodyctl: broken });
    expect(logged).toEqual([
      "appliance error account alice@example.org (XMPP_ADMIN_PASSWORD) could not be created: prosodyctl exited with status 1: lua: cannot open config; tried again at the next start\n",
    ]);
  });

  it("should do nothing when no account is listed", async () => {
    const prosodyctl = fakeProsodyctl([]);
    expect(await createFirstRunAccounts([], { markerPath, runProsodyctl: prosodyctl.run })).toBe("none listed");
    expect(prosodyctl.inputs).toEqual([]);
  });
});
