import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { daysLeft, loadCertificatePair } from "./check-certificate.js";
import { issueCertificate } from "./issue-certificate.js";
import { log } from "../log.js";

export interface SelfSignedOwner {
  uid: number;
  gid: number;
}

export interface SelfSignedCertificate {
  certPath: string;
  keyPath: string;
  generated: boolean;
}

const RENEW_WITHIN_DAYS = 30;
const VALID_FOR_DAYS = 365;
const DAY_MS = 86_400_000;
const KEY_MODE = 0o640;
const CERT_MODE = 0o644;
const STORE_MODE = 0o750;

/**
 * Keeps `<storeDir>/<domain>.crt` and `.key`: a self-signed certificate for `domain` and
 * `*.domain`, reused while it still parses, matches its key, covers the domain and has more
 * than 30 days left, so clients that pinned it keep trusting it across restarts.
 */
export function ensureSelfSigned(storeDir: string, domain: string, owner: SelfSignedOwner): SelfSignedCertificate {
  if (!/^[^/\\.][^/\\]*$/.test(domain)) {
    throw new Error(`not a usable domain for a file name: ${JSON.stringify(domain)}`);
  }
  const certPath = join(storeDir, `${domain}.crt`);
  const keyPath = join(storeDir, `${domain}.key`);
  ensureTrustedStore(storeDir, owner);

  if (isStillGood({ certPath, keyPath }, domain)) {
    // Ownership and modes are repaired in place: a data volume may come from another image.
    enforceOwnership(keyPath, KEY_MODE, owner);
    enforceOwnership(certPath, CERT_MODE, owner);
    return { certPath, keyPath, generated: false };
  }

  const now = Date.now();
  const issued = issueCertificate({
    names: [domain, `*.${domain}`],
    organization: "prosody-appliance self-signed",
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + VALID_FOR_DAYS * DAY_MS),
  });
  // A crash between the two renames leaves a key that does not match: the next call replaces both.
  writeAtomically(keyPath, issued.keyPem, KEY_MODE, owner);
  writeAtomically(certPath, issued.certPem, CERT_MODE, owner);
  return { certPath, keyPath, generated: true };
}

/**
 * The store lives in the data volume, which Prosody owns: a compromised Prosody could replace it
 * with a link or a directory of its own, so that root writes or re-owns files elsewhere. Anything
 * at the store's name that is not a directory owned as expected is moved aside (rename does not
 * follow links) and a new one made.
 */
function ensureTrustedStore(storeDir: string, owner: SelfSignedOwner): void {
  // Root keeps the store itself (Prosody only reads it), whoever the files are for.
  const uid = process.getuid?.() ?? 0;
  const found = lstatSync(storeDir, { throwIfNoEntry: false });
  const trusted = found?.isDirectory() === true && found.uid === uid;
  if (found && !trusted) {
    const aside = `${storeDir}.untrusted-${Date.now()}`;
    renameSync(storeDir, aside);
    log("warn", `${storeDir} was ${found.isSymbolicLink() ? "a link" : `not a directory owned by uid ${uid}`}: moved it to ${aside} and made a new one`);
  }
  // mkdir(2) fails rather than reuse anything that appeared at the name meanwhile.
  if (!trusted) mkdirSync(storeDir, { mode: 0o700 });
  const fd = openSync(storeDir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const stats = fstatSync(fd);
    if (stats.uid !== uid || stats.gid !== owner.gid) fchownSync(fd, uid, owner.gid);
    if ((stats.mode & 0o7777) !== STORE_MODE) fchmodSync(fd, STORE_MODE);
  } finally {
    closeSync(fd);
  }
}

function isStillGood(files: { certPath: string; keyPath: string }, domain: string): boolean {
  // Symlinks are replaced, not followed: ownership repair must not reach files outside the store.
  if (!isRegularFile(files.certPath) || !isRegularFile(files.keyPath)) return false;
  // Root reads the files here; ownership is fixed afterwards, so readability is not the question.
  const pair = loadCertificatePair(files, { uid: 0, gids: [] });
  try {
    const checked = pair.checkFor(domain);
    return daysLeft(checked) >= RENEW_WITHIN_DAYS;
  } catch {
    return false;
  }
}

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

function enforceOwnership(path: string, mode: number, owner: SelfSignedOwner): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stats = fstatSync(fd);
    if (stats.uid !== owner.uid || stats.gid !== owner.gid) fchownSync(fd, owner.uid, owner.gid);
    if ((stats.mode & 0o7777) !== mode) fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/** Written under a temporary name created 0600, then renamed: never briefly world-readable. */
function writeAtomically(path: string, contents: string, mode: number, owner: SelfSignedOwner): void {
  const temporaryPath = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(temporaryPath, "wx", 0o600);
  try {
    try {
      writeSync(fd, contents);
      fchownSync(fd, owner.uid, owner.gid);
      fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporaryPath, path);
  } catch (error) {
    rmSync(temporaryPath, { force: true });
    throw error;
  }
}
