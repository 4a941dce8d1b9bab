import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { log } from "../log.js";
import { describeNonRoot, runsAsRoot } from "../identity.js";

/**
 * Gives the image's `certs` group the gid that may read the keys, as the seed HOWTO's
 * `usermod -a -G certs prosody` would, so `id prosody` and prosodyctl agree with the running
 * server. Prosody itself gets the gid explicitly at spawn, so a read-only root filesystem
 * (where this cannot be written) changes nothing that matters.
 */
export function syncCertsGroup(gid: number, groupFile = "/etc/group"): string {
  if (!runsAsRoot()) {
    log("info", `certs group: not changed, which needs root; running as ${describeNonRoot()}, Prosody reads keys with these groups (add one with --group-add)`);
    return `skipped (not root)`;
  }
  const line = readFileSync(groupFile, "utf8")
    .split("\n")
    .find((l) => l.startsWith("certs:"));
  const currentGid = line ? Number(line.split(":")[2]) : undefined;
  if (currentGid === gid) return `certs group is gid ${gid}`;
  const result = spawnSync("groupmod", ["--non-unique", "--gid", String(gid), "certs"], { encoding: "utf8" });
  if (result.status !== 0) {
    log("warn", `could not give the certs group gid ${gid} (${(result.stderr || result.error?.message || "").trim()}); Prosody still runs with gid ${gid}`);
    return `Prosody runs with gid ${gid}`;
  }
  return `certs group is now gid ${gid} (was ${currentGid})`;
}
