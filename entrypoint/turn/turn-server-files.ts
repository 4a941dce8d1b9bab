import { accessSync, closeSync, constants, fchmodSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { CertificateFiles } from "../certificates/check-certificate.js";
import type { SystemAccount } from "./system-account.js";
import { ownForReading } from "../identity.js";

/**
 * coturn's own directory: its config (with the shared secret) and its copy of the certificate
 * pair, readable by its account and by nothing else. In tmpfs (/dev/shm) where writable, so
 * neither the secret nor the key lands on the container's disk.
 */
export function turnServerDir(): string {
  try {
    accessSync("/dev/shm", constants.W_OK);
    return "/dev/shm/prosody-appliance-turn";
  } catch {
    return "/run/prosody-appliance-turn";
  }
}

export interface TurnServerFiles {
  dir: string;
  config: string;
  pidFile: string;
  userDb: string;
  /** Fixed paths: a renewal replaces the files under them, then asks coturn to re-read them. */
  certificate: CertificateFiles;
}

export function turnServerFiles(dir = turnServerDir()): TurnServerFiles {
  return {
    dir,
    config: join(dir, "turnserver.conf"),
    pidFile: join(dir, "turnserver.pid"),
    userDb: join(dir, "turndb"),
    certificate: { certPath: join(dir, "certificate.pem"), keyPath: join(dir, "key.pem") },
  };
}

/** The directories this process made; whatever was at that path before start is not trusted. */
const madeFresh = new Set<string>();

function prepareDir(files: TurnServerFiles, account: SystemAccount): void {
  if (!madeFresh.has(files.dir)) {
    // A link or directory left there (tmpfs may outlive a restart) is removed, never followed.
    rmSync(files.dir, { recursive: true, force: true });
    mkdirSync(files.dir, { mode: 0o700 });
    madeFresh.add(files.dir);
  }
  const fd = openSync(files.dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    ownForReading(fd, account.gid);
    // Group-writable for coturn's pid file; nobody else may enter.
    fchmodSync(fd, 0o770);
  } finally {
    closeSync(fd);
  }
}

/**
 * The directory is coturn's to write too: each file is created new (O_EXCL, no link followed),
 * owned and moded through its fd, then renamed over the old one.
 */
function replace(path: string, contents: Buffer | string, mode: number, account: SystemAccount): void {
  const temporary = `${path}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, typeof contents === "string" ? Buffer.from(contents) : contents);
    ownForReading(fd, account.gid);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

/** Copies the pair coturn serves to its fixed paths; coturn reads them at start and on SIGUSR2. */
export function writeTurnCertificate(source: CertificateFiles, files: TurnServerFiles, account: SystemAccount): void {
  prepareDir(files, account);
  replace(files.certificate.certPath, readFileSync(source.certPath), 0o640, account);
  replace(files.certificate.keyPath, readFileSync(source.keyPath), 0o640, account);
}

export function writeTurnConfig(text: string, files: TurnServerFiles, account: SystemAccount): void {
  prepareDir(files, account);
  // Created 0600: the secret is readable by no one but root until the file is coturn's.
  replace(files.config, text, 0o640, account);
}
