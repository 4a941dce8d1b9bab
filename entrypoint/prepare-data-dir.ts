import { accessSync, chmodSync, closeSync, constants, fchownSync, fstatSync, lchownSync, lstatSync, mkdirSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PATHS, PROSODY_USER } from "./paths.js";
import { log } from "./log.js";
import { ConfigError } from "./errors.js";
import { ownReader, runsAsRoot } from "./identity.js";
import type { Stats } from "node:fs";

/**
 * Gives a tree to uid:gid without following a link, even one swapped in while it runs: a
 * directory is opened O_NOFOLLOW and changed through its fd, and its entries are reached
 * through /proc/self/fd/N, which names the directory opened, not whatever has its name now.
 */
function chownTree(path: string, uid: number, gid: number): number {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) {
    if (stat.uid === uid && stat.gid === gid) return 0;
    lchownSync(path, uid, gid);
    return 1;
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    // Replaced by a link or a file since the lstat: not followed, and not ours to take.
    if (["ELOOP", "ENOTDIR", "ENOENT"].includes((error as NodeJS.ErrnoException).code ?? "")) return 0;
    throw error;
  }
  try {
    let changed = 0;
    const opened = fstatSync(fd);
    if (opened.uid !== uid || opened.gid !== gid) {
      fchownSync(fd, uid, gid);
      changed++;
    }
    const here = `/proc/self/fd/${fd}`;
    for (const entry of readdirSync(here)) changed += chownTree(join(here, entry), uid, gid);
    return changed;
  } finally {
    closeSync(fd);
  }
}

/**
 * Without root nothing can be taken over: the volume must already be this process's to write
 * (docker run --user 101:101 on a volume that an earlier root start, or `chown -R`, gave to 101).
 */
function checkOwnDataDir(dataDir: string, stat: Stats): string {
  const own = ownReader();
  let writable = stat.isDirectory();
  try {
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch {
    writable = false;
  }
  if (writable && stat.uid === own.uid) return `${dataDir} belongs to uid ${own.uid} (not root: nothing taken over)`;
  const mode = (stat.mode & 0o7777).toString(8).padStart(4, "0");
  throw new ConfigError([
    `${dataDir} is ${mode} ${stat.uid}:${stat.gid}, not owned and writable by uid ${own.uid}, and without root (docker run --user) the entrypoint cannot take it over. ` +
      `Accepted: a data volume owned by ${PROSODY_USER.uid}:${PROSODY_USER.gid} (e.g. chown -R ${PROSODY_USER.uid}:${PROSODY_USER.gid} on the volume's host directory), or running as root (no --user), which takes it over.`,
  ]);
}

/**
 * The data volume must belong to the prosody user. A fresh bind mount is usually root's, and
 * a volume from an image that gave prosody another uid holds files Prosody cannot write:
 * take the whole tree over then (logged), so accounts and archives carry over.
 */
export function prepareDataDir(dataDir: string = PATHS.dataDir): string {
  mkdirSync(dataDir, { recursive: true });
  const stat = lstatSync(dataDir);
  if (stat.uid === PROSODY_USER.uid && stat.gid === PROSODY_USER.gid) {
    return `${dataDir} belongs to ${PROSODY_USER.name}`;
  }
  if (!runsAsRoot()) return checkOwnDataDir(dataDir, stat);
  // Before the chown: a directory root still owns (a new bind mount) needs no CAP_FOWNER to chmod.
  try {
    chmodSync(dataDir, 0o750);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") throw error;
    throw new ConfigError([
      `${dataDir} belongs to uid ${stat.uid}:${stat.gid}, and taking it over for ${PROSODY_USER.name} needs the FOWNER capability, which this container was not given. ` +
        `Accepted: chown -R ${PROSODY_USER.uid}:${PROSODY_USER.gid} on the volume, or one start with --cap-add FOWNER (compose: cap_add).`,
    ]);
  }
  const changed = chownTree(dataDir, PROSODY_USER.uid, PROSODY_USER.gid);
  log("warn", `${dataDir} belonged to uid ${stat.uid}:${stat.gid}; gave ${changed} files to ${PROSODY_USER.name} (uid ${PROSODY_USER.uid})`);
  return `${dataDir} taken over for ${PROSODY_USER.name}`;
}
