import {
  accessSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import type { Stats } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { log } from "../log.js";
import { PATHS, PROSODY_USER } from "../paths.js";
import { readRegularFile } from "../read-regular-file.js";
import { ownForReading, ownReader, runsAsRoot } from "../identity.js";
import type { CertificateFiles, CheckedCertificate } from "./check-certificate.js";
import { isReadableBy, type Reader } from "./readable-by.js";

/** The gid the image gives its `certs` group when the mounted keys name none (root-owned). */
export const DEFAULT_CERTS_GID = 990;

/**
 * The group that may read the mounted keys, like the seed HOWTO's `certs` group: the group
 * that owns them (a host `certs` group), unless the setting names one.
 */
export function certsGroupId(setting: "auto" | number, keys: CheckedCertificate[]): number {
  if (setting !== "auto") return setting;
  for (const key of keys) {
    const gid = statSync(key.realKeyPath).gid;
    if (gid !== 0 && gid !== PROSODY_USER.gid) return gid;
  }
  return DEFAULT_CERTS_GID;
}

export function prosodyReader(certsGid: number): Reader {
  // Without root, Prosody runs as this process does, with the groups Docker gave it (--group-add).
  if (!runsAsRoot()) return ownReader();
  return { uid: PROSODY_USER.uid, gids: [PROSODY_USER.gid, certsGid] };
}

export interface KeyAccess {
  /** What Prosody is pointed at: the files in place, or a private copy. */
  files: CertificateFiles;
  how: "in-place" | "group-fix" | "private-copy";
}

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/** Every directory from `root` down to the file's directory, root first. */
function directoriesBetween(root: string, file: string): string[] {
  const rel = relative(root, dirname(file));
  if (rel.startsWith("..")) return [];
  const dirs = [root];
  let current = root;
  for (const part of rel.split(sep).filter(Boolean)) {
    current = join(current, part);
    dirs.push(current);
  }
  return dirs;
}

/**
 * Runs `change` on `path` opened without following a link: what is checked (fstat) is what is
 * changed (fchown/fchmod), even if the name is swapped meanwhile. A link is left alone.
 */
function withNoFollow(path: string, flags: number, change: (fd: number, stat: Stats) => void): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | flags);
  } catch (error) {
    if (["ELOOP", "ENOTDIR", "ENOENT"].includes((error as NodeJS.ErrnoException).code ?? "")) return;
    throw error;
  }
  try {
    change(fd, fstatSync(fd));
  } finally {
    closeSync(fd);
  }
}

/**
 * certbot's documented fix for letting a service read its keys: the directories on the way
 * become group-searchable and the key group-readable, for the certs group. certbot keeps group
 * and group mode on renewal. Never adds a permission for others.
 */
function applyGroupFix(certsDir: string, cert: CheckedCertificate, gid: number): string[] {
  const changes: string[] = [];
  const paths = new Set<string>();
  for (const path of [cert.certPath, cert.realCertPath, cert.keyPath, cert.realKeyPath]) {
    for (const dir of directoriesBetween(certsDir, resolve(path))) paths.add(dir);
  }
  for (const dir of paths) {
    withNoFollow(dir, constants.O_DIRECTORY, (fd, stat) => {
      const needsGroup = stat.gid !== gid && (stat.mode & 0o005) !== 0o005;
      const mode = stat.mode | 0o050;
      if (needsGroup) fchownSync(fd, stat.uid, gid);
      if (mode !== stat.mode) fchmodSync(fd, mode & 0o7777);
      if (needsGroup || mode !== stat.mode) {
        changes.push(`${dir}: ${octal(stat.mode)} ${stat.uid}:${stat.gid} -> ${octal(mode)} ${stat.uid}:${needsGroup ? gid : stat.gid}`);
      }
    });
  }
  withNoFollow(cert.realKeyPath, constants.O_NONBLOCK, (fd, key) => {
    if (!key.isFile()) return;
    const keyMode = (key.mode & 0o7707) | 0o040;
    if (key.gid !== gid || keyMode !== (key.mode & 0o7777)) {
      fchownSync(fd, key.uid, gid);
      fchmodSync(fd, keyMode);
      changes.push(`${cert.realKeyPath}: ${octal(key.mode)} ${key.uid}:${key.gid} -> ${octal(keyMode)} ${key.uid}:${gid}`);
    }
  });
  return changes;
}

/**
 * Private copies live in tmpfs (/dev/shm) where it is writable, so a key copied out of a
 * read-only mount never touches a disk; otherwise under /run/prosody-appliance.
 */
function copyDirectory(): string {
  for (const dir of ["/dev/shm", PATHS.generatedDir]) {
    if (isWritable(dir)) return join(dir, "prosody-appliance-keys");
  }
  return join(PATHS.generatedDir, "keys");
}

/** The copy directories this process made; anything found there before is not trusted. */
const madeFresh = new Set<string>();

/**
 * Whatever is at `dir` (a link, a directory planted before start) is removed, not followed, and
 * a new directory made with mkdir(2), which fails rather than reuse anything that reappears. It
 * is 0700 until its owner is root and its group Prosody's, then 0750: Prosody only reads.
 */
function makeFreshDirectory(dir: string): void {
  if (madeFresh.has(dir) && lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o700 });
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    ownForReading(fd);
    fchmodSync(fd, 0o750);
  } finally {
    closeSync(fd);
  }
  madeFresh.add(dir);
}

/** Created new (never through a link, never an existing file), owned and moded through its fd. */
function writePrivateFile(path: string, contents: Buffer, mode: number): void {
  rmSync(path, { force: true });
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, contents);
    ownForReading(fd);
    fchmodSync(fd, mode);
    if ((fstatSync(fd).mode & 0o7777) !== mode) throw new Error(`${path}: mode not applied`);
  } finally {
    closeSync(fd);
  }
}

export function privateCopy(certsDir: string, name: string, cert: CheckedCertificate, dir = copyDirectory()): CertificateFiles {
  makeFreshDirectory(dir);
  // Named by fingerprint: the copy Prosody serves now stays until a reload has moved it on.
  const stem = join(dir, `${name}-${cert.fingerprint256.replace(/:/g, "").slice(0, 16)}`);
  const files = { certPath: `${stem}.crt`, keyPath: `${stem}.key` };
  writePrivateFile(files.certPath, readRegularFile(cert.realCertPath, { within: certsDir }), 0o644);
  writePrivateFile(files.keyPath, readRegularFile(cert.realKeyPath, { within: certsDir }), 0o640);
  return files;
}

/** Removes private copies that no longer back any served certificate. */
export function removeStaleCopies(inUse: Iterable<CertificateFiles>): void {
  const dir = copyDirectory();
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  const keep = new Set<string>();
  for (const files of inUse) keep.add(files.certPath).add(files.keyPath);
  for (const entry of entries) {
    const path = join(dir, entry);
    if (!keep.has(path)) rmSync(path, { force: true });
  }
}

/**
 * Makes a checked certificate readable by Prosody, least intrusively first: as it is (the certs
 * group already reads it), by certbot's group fix on a writable mount, or as a private copy
 * when the mount is read-only. Logs what it changed.
 */
export interface GrantOptions {
  /** Whether certbot's group fix may change a writable mount (XMPP_CERTS_GID set explicitly). */
  groupFix: boolean;
  /** Where private copies go (tests). */
  copyDir?: string;
}

/**
 * kubelet deletes a Secret volume's `..<timestamp>` version directory the moment it swaps in the
 * next one, so Prosody pointed there could neither roll back nor reload after a failed update.
 */
function inKubeletVersion(path: string): boolean {
  return basename(dirname(path)).startsWith("..");
}

export function grantKeyAccess(certsDir: string, name: string, cert: CheckedCertificate, certsGid: number, options: GrantOptions): KeyAccess {
  if (inKubeletVersion(cert.realCertPath) || inKubeletVersion(cert.realKeyPath)) {
    const files = privateCopy(certsDir, name, cert, options.copyDir);
    log("info", `certs group: ${name}'s pair is in a Kubernetes Secret volume, whose previous version kubelet deletes on update, so Prosody reads a private copy in ${dirname(files.keyPath)} (tmpfs, not world-readable)`);
    return { files, how: "private-copy" };
  }
  const reader = prosodyReader(certsGid);
  const inPlace = { certPath: cert.realCertPath, keyPath: cert.realKeyPath };
  const blocked = [cert.certPath, cert.realKeyPath, cert.keyPath]
    .map((path) => isReadableBy(path, reader))
    .find((r) => !r.readable);
  if (!blocked) return { files: inPlace, how: "in-place" };

  const why = blocked.readable ? "" : blocked.reason;
  const writable = isWritable(cert.realKeyPath) && isWritable(dirname(cert.realKeyPath));
  // The group fix changes owners, which only root may do.
  if (options.groupFix && writable && runsAsRoot()) {
    const changes = applyGroupFix(certsDir, cert, certsGid);
    for (const change of changes) log("info", `certs group: ${change}`);
    const after = [cert.certPath, cert.realKeyPath].map((p) => isReadableBy(p, reader)).find((r) => !r.readable);
    if (!after) {
      log("info", `certs group: Prosody reads ${name}'s key in place now (group ${certsGid}; certbot keeps this on renewal)`);
      return { files: inPlace, how: "group-fix" };
    }
  }
  const files = privateCopy(certsDir, name, cert, options.copyDir);
  const because = writable ? "XMPP_CERTS_GID is auto, which never changes your mount" : "the mount is read-only";
  log(
    "info",
    `certs group: ${why}; ${because}, so Prosody reads a private copy of ${name}'s pair in ${dirname(files.keyPath)} (tmpfs, not world-readable). ` +
      `To read keys in place, give group ${certsGid} read access on the host (chgrp ${certsGid}, chmod 0640 keys, 0750 dirs) or set XMPP_CERTS_GID.`,
  );
  return { files, how: "private-copy" };
}
