import { chownSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { log } from "../log.js";
import { runAsProsody } from "../run-as-prosody.js";
import { PATHS, PROSODY_USER } from "../paths.js";
import type { FirstRunAccount, Settings } from "../settings.js";

/** An account to create, and the setting it comes from (named in the log, never its password). */
export interface ListedAccount extends FirstRunAccount {
  source: string;
}

/** The first admin (XMPP_ADMIN_PASSWORD) first, then XMPP_ACCOUNTS in their order. */
export function listedAccounts(settings: Pick<Settings, "admins" | "adminPassword" | "accounts">): ListedAccount[] {
  const admin = settings.adminPassword === "" ? [] : [{ jid: settings.admins[0]!, password: settings.adminPassword, source: "XMPP_ADMIN_PASSWORD" }];
  return [...admin, ...settings.accounts.map((account) => ({ ...account, source: "XMPP_ACCOUNTS" }))];
}

export interface ProsodyctlResult {
  exitCode: number;
  output: string;
}

export interface FirstRunOptions {
  /** JIDs handled at earlier starts, one per line; rewritten after each run. */
  markerPath?: string;
  /** Runs the account module with these lines on its standard input. */
  runProsodyctl?: (input: string) => Promise<ProsodyctlResult>;
}

/**
 * Each listed account is created once: at the first start that lists it, and only if it does
 * not exist. An account that exists is left exactly as it is (a password changed since, with
 * prosodyctl passwd or by the user, is never reset from a secret), and one handled at an earlier
 * start is not looked at again (a deleted account stays deleted). Prosody is not running yet:
 * prosodyctl works on the storage directly, and Prosody then starts with the accounts in place.
 */
export async function createFirstRunAccounts(accounts: readonly ListedAccount[], options: FirstRunOptions = {}): Promise<string> {
  const { markerPath = PATHS.firstRunAccounts, runProsodyctl = runAccountModule } = options;
  if (accounts.length === 0) return "none listed";
  const handled = readMarker(markerPath);
  const pending = accounts.filter((account) => !handled.has(account.jid));
  if (pending.length === 0) return `all ${accounts.length} handled at an earlier start (${markerPath})`;

  const result = await runProsodyctl(pending.map((a) => `${a.jid}\t${a.password}\n`).join(""));
  const outcomes = new Map<string, { outcome: string; reason: string }>();
  for (const line of result.output.split("\n")) {
    const match = /^(created|exists|failed) (\S+)(?: (.*))?$/.exec(line.trim());
    if (match) outcomes.set(match[2]!, { outcome: match[1]!, reason: match[3] ?? "" });
  }

  const counts = { created: 0, exists: 0, failed: 0 };
  for (const account of pending) {
    const { outcome, reason } = outcomes.get(account.jid) ?? { outcome: "failed", reason: `prosodyctl exited with status ${result.exitCode}: ${lastLines(result.output)}` };
    if (outcome === "created") {
      log("info", `account ${account.jid} created with the password from ${account.source}`);
    } else if (outcome === "exists") {
      log("info", `account ${account.jid} exists: left as it is (${account.source} only creates it; change its password with prosodyctl passwd)`);
    } else {
      log("error", `account ${account.jid} (${account.source}) could not be created: ${reason}; tried again at the next start`);
    }
    counts[outcome as keyof typeof counts]++;
    if (outcome !== "failed") handled.add(account.jid);
  }
  writeMarker(markerPath, handled);
  return `${counts.created} created, ${counts.exists} existed already, ${counts.failed} failed` + (accounts.length > pending.length ? `, ${accounts.length - pending.length} handled at an earlier start` : "");
}

function readMarker(path: string): Set<string> {
  try {
    return new Set(readFileSync(path, "utf8").split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#")));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Set();
    throw error;
  }
}

function writeMarker(path: string, jids: ReadonlySet<string>): void {
  const header = "# Accounts the appliance created, or found existing, from XMPP_ADMIN_PASSWORD and XMPP_ACCOUNTS.\n# Each is created at most once. Remove a line to have it created again (if missing) at the next start.\n";
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, header + [...jids].map((jid) => `${jid}\n`).join(""), { mode: 0o640 });
  try {
    chownSync(temporary, PROSODY_USER.uid, PROSODY_USER.gid);
  } catch {
    // Not root (unit tests): the owner does not matter there.
  }
  renameSync(temporary, path);
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" / ") || "no output";
}

/** prosodyctl as the prosody user, passwords on standard input. */
function runAccountModule(input: string): Promise<ProsodyctlResult> {
  return runAsProsody(["prosodyctl", "--config", PATHS.prosodyConfig, "mod_appliance_accounts"], input);
}
