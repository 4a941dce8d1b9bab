import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "zx";

/** One line of testssl.sh's JSON output (`--jsonfile`). */
export interface TestsslFinding {
  id: string;
  severity: string;
  finding: string;
}

/**
 * Only what the TLS profile decides: protocols (-p), cipher categories (-s), forward secrecy (-f)
 * and the vulnerabilities (-U). No DNS lookups: the tests talk to 127.0.0.1 only.
 */
const CHECKS = ["-p", "-s", "-f", "-U"];

export async function assertTestsslInstalled(): Promise<void> {
  const found = await $({ nothrow: true, quiet: true })`testssl --version`;
  if (found.exitCode !== 0) {
    throw new Error("testssl is not installed on this host: `apt-get install testssl.sh` (Debian's package; `.ci/run` installs it when missing).");
  }
}

/** Scans 127.0.0.1:`port` (STARTTLS xmpp with `xmppHost`, otherwise direct TLS) and returns its findings. */
export async function testssl(port: number, options: { xmppHost?: string } = {}): Promise<TestsslFinding[]> {
  const dir = mkdtempSync(join(tmpdir(), "testssl-"));
  try {
    const json = join(dir, "findings.json");
    const starttls = options.xmppHost ? ["--starttls", "xmpp", "--xmpphost", options.xmppHost] : [];
    const run = await $({ nothrow: true, quiet: true })`testssl --quiet --color 0 --warnings off --nodns none ${CHECKS} ${starttls} --jsonfile ${json} 127.0.0.1:${port}`;
    let findings: TestsslFinding[];
    try {
      findings = JSON.parse(readFileSync(json, "utf8")) as TestsslFinding[];
    } catch {
      throw new Error(`testssl wrote no findings for 127.0.0.1:${port} (exit ${run.exitCode}):\n${run.stdout}\n${run.stderr}`);
    }
    return findings.map(({ id, severity, finding }) => ({ id, severity, finding }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What testssl must say about every listener under the intermediate profile, by finding id. */
export const INTERMEDIATE_FINDINGS: Record<string, string> = {
  SSLv2: "not offered",
  SSLv3: "not offered",
  TLS1: "not offered",
  TLS1_1: "not offered",
  TLS1_2: "offered",
  cipherlist_NULL: "not offered",
  cipherlist_aNULL: "not offered",
  cipherlist_EXPORT: "not offered",
  cipherlist_LOW: "not offered",
  cipherlist_3DES_IDEA: "not offered",
  // "Obsolete CBC ciphers": everything left after this is AEAD.
  cipherlist_AVERAGE: "not offered",
  cipherlist_STRONG: "offered",
  PFS: "offered",
  // No cipher without forward secrecy: no RSA key transport (the certificate is RSA, so it could be).
  ROBOT: "not vulnerable, no RSA key transport cipher",
  fallback_SCSV: "no protocol below TLS 1.2 offered",
};

/** testssl's vulnerability checks (-U) that apply to every TLS listener; each must be there and not flagged. */
export const VULNERABILITY_IDS = [
  "heartbleed",
  "CCS",
  "ROBOT",
  "secure_renego",
  "secure_client_renego",
  "CRIME_TLS",
  "POODLE_SSL",
  "fallback_SCSV",
  "SWEET32",
  "FREAK",
  "DROWN",
  "LOGJAM",
  "BEAST",
  "LUCKY13",
  "RC4",
];

/** Severities that mean testssl flags a weakness (OK, INFO and DEBUG do not; WARN is about testssl itself). */
const FLAGGED = new Set(["LOW", "MEDIUM", "HIGH", "CRITICAL"]);

/**
 * Every way `findings` departs from the intermediate profile, one line each (empty when none):
 * the exact findings above, TLS 1.3 as expected, forward-secret ciphers all AEAD, each
 * vulnerability check present, and nothing flagged.
 */
export function intermediateProfileProblems(findings: TestsslFinding[], expectTls13: string): string[] {
  const byId = new Map(findings.map((f) => [f.id, f]));
  const problems: string[] = [];
  for (const [id, expected] of Object.entries({ ...INTERMEDIATE_FINDINGS, TLS1_3: expectTls13 })) {
    const actual = byId.get(id)?.finding;
    if (actual !== expected) problems.push(`${id}: "${actual ?? "(missing)"}", expected "${expected}"`);
  }
  const pfsCiphers = (byId.get("PFS_ciphers")?.finding ?? "").split(/\s+/).filter(Boolean);
  if (pfsCiphers.length === 0) problems.push("PFS_ciphers: none listed");
  for (const cipher of pfsCiphers) {
    if (!/GCM|CHACHA20|CCM/.test(cipher)) problems.push(`PFS_ciphers: ${cipher} is not AEAD`);
  }
  for (const id of VULNERABILITY_IDS) if (!byId.has(id)) problems.push(`${id}: not checked`);
  for (const f of findings) if (FLAGGED.has(f.severity)) problems.push(`${f.id}: ${f.severity} "${f.finding}"`);
  return problems;
}
