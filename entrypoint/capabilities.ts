import { readFileSync } from "node:fs";
import { ConfigError } from "./errors.js";
import { describeNonRoot, runsAsRoot } from "./identity.js";

/**
 * What the root entrypoint does with each capability it needs (bit numbers from
 * linux/capability.h). Anything else (FOWNER, NET_BIND_SERVICE ...) it does without; FOWNER
 * only once, to take over a data volume that another non-root uid owns, and says so then.
 */
const NEEDED = [
  { name: "CHOWN", bit: 0, why: "gives generated files to root:prosody and the TURN secret to prosody" },
  { name: "DAC_OVERRIDE", bit: 1, why: "reaches into the prosody-owned data volume (TURN secret, first-run accounts, self-signed store)" },
  { name: "KILL", bit: 5, why: "signals Prosody and coturn (reload, stop)" },
  { name: "SETGID", bit: 6, why: "starts Prosody and coturn with their own groups" },
  { name: "SETUID", bit: 7, why: "starts Prosody and coturn as their own users" },
] as const;

/** The effective capability set from /proc/self/status. */
function effective(status: string): bigint {
  const hex = /^CapEff:\s*([0-9a-f]+)$/im.exec(status)?.[1];
  return hex === undefined ? 0n : BigInt(`0x${hex}`);
}

/**
 * As root, the capabilities the entrypoint uses must all be there: a missing one would
 * otherwise show up later as a misleading error or a crash (e.g. no KILL: the first reload).
 */
export function checkCapabilities(status = readFileSync("/proc/self/status", "utf8"), root = runsAsRoot()): string {
  if (!root) return `${describeNonRoot()}: none needed`;
  const caps = effective(status);
  const missing = NEEDED.filter(({ bit }) => ((caps >> BigInt(bit)) & 1n) === 0n);
  if (missing.length > 0) {
    throw new ConfigError([
      ...missing.map(({ name, why }) => `capability ${name} is missing: the root entrypoint ${why}.`),
      `Accepted: --cap-add for each (${missing.map(({ name }) => `--cap-add ${name}`).join(" ")}; compose: cap_add), or no root at all: --user 101:101 with mounts uid 101 can use (README, Security).`,
    ]);
  }
  return `root with ${NEEDED.map(({ name }) => name).join(", ")}`;
}
