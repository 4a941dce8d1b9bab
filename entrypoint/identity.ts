import { chownSync, fchownSync } from "node:fs";
import { PROSODY_USER } from "./paths.js";

/**
 * The entrypoint runs as root (the default: it prepares mounts, then starts Prosody and coturn as
 * their own accounts) or, with `docker run --user 101:101`, as the prosody account itself: then
 * it changes no owner and switches no user, and Prosody, coturn and prosodyctl run as it does,
 * with the groups Docker gave it (--group-add).
 */
export function runsAsRoot(): boolean {
  return (process.getuid?.() ?? 0) === 0;
}

/** The uid and every gid this process runs with (a certificates/readable-by Reader). */
export function ownReader(): { uid: number; gids: number[] } {
  const gid = process.getgid?.() ?? 0;
  return { uid: process.getuid?.() ?? 0, gids: [...new Set([gid, ...(process.getgroups?.() ?? [])])] };
}

/** "uid 101 (docker run --user)": how the non-root mode names itself in log lines. */
export function describeNonRoot(): string {
  const reader = ownReader();
  return `uid ${reader.uid}, gids ${reader.gids.join(",")} (docker run --user)`;
}

/**
 * setpriv's options that make a child run as `account` with exactly `groups`, as root; none
 * without root, where the child simply keeps this process's uid and groups.
 */
export function switchUser(account: { uid: number; gid: number }, groups: readonly number[] | "none"): string[] {
  if (!runsAsRoot()) return [];
  return [
    `--reuid=${account.uid}`,
    `--regid=${account.gid}`,
    ...(groups === "none" ? ["--clear-groups"] : [`--groups=${[...new Set(groups)].join(",")}`]),
  ];
}

/**
 * Gives a file this process created to root with Prosody's (or coturn's) group, so that Prosody
 * reads it and cannot change it. Without root the file is already this process's, which is the
 * account Prosody runs as: nothing to change, and nothing could be.
 */
export function ownForReading(fd: number, gid: number = PROSODY_USER.gid): void {
  if (runsAsRoot()) fchownSync(fd, 0, gid);
}

/** ownForReading by path, for a file or directory just created under /run. */
export function ownPathForReading(path: string, gid: number = PROSODY_USER.gid): void {
  if (runsAsRoot()) chownSync(path, 0, gid);
}
