import { lstatSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import type { Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { kindOf } from "../read-regular-file.js";

/** The identity a file is opened as: Prosody's uid plus every group it runs with. */
export interface Reader {
  uid: number;
  gids: number[];
}

export type Readability =
  | { readable: true }
  | {
      readable: false;
      /** A sentence that starts with the path it is about. */
      reason: string;
      /** When that path is the file itself (as given, or behind its link): the reason without
       *  it, for a message that names the file already ("…/fullchain.pem (/dev/zero): is …"). */
      fileProblem?: string;
    };

/** Not readable because of `about`, which is the file itself (`ofFile`) or a directory on its way. */
function unreadable(about: string, problem: string, ofFile: boolean): Readability {
  return { readable: false, reason: `${about} ${problem}`, ...(ofFile ? { fileProblem: problem } : {}) };
}

export const READ = 4;
export const SEARCH = 1;

/**
 * Decides from modes and ownership, without switching identity, whether `reader` could open
 * `path` for reading: read permission on the file and search permission on every directory
 * the kernel walks, both along the path as given and along its real path (certbot's live/*
 * are relative symlinks into ../../archive).
 */
export function isReadableBy(path: string, reader: Reader): Readability {
  const absolutePath = resolve(path);
  const missing = describeMissing(absolutePath);
  if (missing) return missing;

  const fileStats = statSync(absolutePath);
  if (!fileStats.isFile()) {
    return unreadable(absolutePath, `is ${kindOf(fileStats)}, not a regular file`, true);
  }
  if (reader.uid === 0) return { readable: true };

  const realPath = realpathSync(absolutePath);
  const checkedDirectories = new Set<string>();
  for (const directory of [...ancestorsOf(absolutePath), ...ancestorsOf(realPath)]) {
    if (checkedDirectories.has(directory)) continue;
    checkedDirectories.add(directory);
    const directoryStats = statOrUndefined(directory);
    if (!directoryStats) return unreadable(directory, "cannot be inspected", false);
    if (!allows(directoryStats, reader, SEARCH)) {
      return unreadable(directory, `${describeEntry(directoryStats)}, not searchable by ${describeReader(reader)}`, false);
    }
  }

  if (!allows(fileStats, reader, READ)) {
    return unreadable(realPath, `${describeEntry(fileStats)}, not readable by ${describeReader(reader)}`, true);
  }
  return { readable: true };
}

/** Why `absolutePath` cannot be reached at all, or undefined when it exists. */
function describeMissing(absolutePath: string): Readability | undefined {
  try {
    statSync(absolutePath);
    return undefined;
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT") {
      const link = symlinkTarget(absolutePath);
      return unreadable(absolutePath, link === undefined ? "does not exist" : `is a dangling symlink to ${link}`, true);
    }
    if (code === "ENOTDIR") {
      const notDirectory = ancestorsOf(absolutePath).find((directory) => !isDirectory(directory));
      return unreadable(notDirectory ?? absolutePath, "is not a directory", notDirectory === undefined);
    }
    if (code === "ELOOP") return unreadable(absolutePath, "is a symlink loop", true);
    return unreadable(absolutePath, `cannot be inspected (${code ?? String(error)})`, true);
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function symlinkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return true; // a missing ancestor is reported as "does not exist" by the caller's path
  }
}

/** "/", "/a", "/a/b" for "/a/b/file": every directory the kernel searches to reach the file. */
function ancestorsOf(absolutePath: string): string[] {
  const ancestors: string[] = [];
  for (let directory = dirname(absolutePath); ; directory = dirname(directory)) {
    ancestors.unshift(directory);
    if (dirname(directory) === directory) return ancestors;
  }
}

/** POSIX picks exactly one class: owner bits if the uid owns it, else group bits, else other. */
export function allows(stats: Stats, reader: Reader, permission: number): boolean {
  const bits =
    stats.uid === reader.uid
      ? stats.mode >> 6
      : reader.gids.includes(stats.gid)
        ? stats.mode >> 3
        : stats.mode;
  return (bits & permission) !== 0;
}

/** "is 0600 root:root" */
function describeEntry(stats: Stats): string {
  const mode = (stats.mode & 0o7777).toString(8).padStart(4, "0");
  return `is ${mode} ${userName(stats.uid)}:${groupName(stats.gid)}`;
}

/** "prosody (uid 101, gids 101,990)" */
function describeReader(reader: Reader): string {
  const ids = `uid ${reader.uid}, gids ${reader.gids.join(",") || "none"}`;
  const name = nameFromDatabase("/etc/passwd", reader.uid);
  return name === undefined ? ids : `${name} (${ids})`;
}

// Read on every failure rather than cached: the entrypoint may add users or groups at startup.
function userName(uid: number): string {
  return nameFromDatabase("/etc/passwd", uid) ?? String(uid);
}

function groupName(gid: number): string {
  return nameFromDatabase("/etc/group", gid) ?? String(gid);
}

function nameFromDatabase(file: string, id: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const [name, , idField] = line.split(":");
    if (name && idField !== undefined && Number(idField) === id) return name;
  }
  return undefined;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error ? String(error.code) : undefined;
}
