import { chmodSync, lchownSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PATHS, PROSODY_USER } from "./paths.js";
import { log } from "./log.js";

function chownTree(path: string, uid: number, gid: number): number {
  let changed = 0;
  const stat = lstatSync(path);
  if (stat.uid !== uid || stat.gid !== gid) {
    lchownSync(path, uid, gid);
    changed++;
  }
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path)) changed += chownTree(join(path, entry), uid, gid);
  }
  return changed;
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
  const changed = chownTree(dataDir, PROSODY_USER.uid, PROSODY_USER.gid);
  chmodSync(dataDir, 0o750);
  log("warn", `${dataDir} belonged to uid ${stat.uid}:${stat.gid}; gave ${changed} files to ${PROSODY_USER.name} (uid ${PROSODY_USER.uid})`);
  return `${dataDir} taken over for ${PROSODY_USER.name}`;
}
