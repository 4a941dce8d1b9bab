import { accessSync, chmodSync, chownSync, constants, copyFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CertificateFiles } from "../certificates/check-certificate.js";
import type { SystemAccount } from "./system-account.js";

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
  /** Fixed paths: a renewal replaces the files under them, then asks coturn to re-read them. */
  certificate: CertificateFiles;
}

export function turnServerFiles(dir = turnServerDir()): TurnServerFiles {
  return {
    dir,
    config: join(dir, "turnserver.conf"),
    pidFile: join(dir, "turnserver.pid"),
    certificate: { certPath: join(dir, "certificate.pem"), keyPath: join(dir, "key.pem") },
  };
}

function prepareDir(files: TurnServerFiles, account: SystemAccount): void {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  chownSync(files.dir, 0, account.gid);
  // Group-writable for coturn's pid file; nobody else may enter.
  chmodSync(files.dir, 0o770);
}

function replace(path: string, write: (temporary: string) => void, mode: number, account: SystemAccount): void {
  const temporary = `${path}.${process.pid}.tmp`;
  write(temporary);
  chownSync(temporary, 0, account.gid);
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}

/** Copies the pair coturn serves to its fixed paths; coturn reads them at start and on SIGUSR2. */
export function writeTurnCertificate(source: CertificateFiles, files: TurnServerFiles, account: SystemAccount): void {
  prepareDir(files, account);
  replace(files.certificate.certPath, (tmp) => copyFileSync(source.certPath, tmp), 0o640, account);
  replace(files.certificate.keyPath, (tmp) => copyFileSync(source.keyPath, tmp), 0o640, account);
}

export function writeTurnConfig(text: string, files: TurnServerFiles, account: SystemAccount): void {
  prepareDir(files, account);
  // Created 0600: the secret is readable by no one but root until the file is coturn's.
  replace(files.config, (tmp) => writeFileSync(tmp, text, { mode: 0o600 }), 0o640, account);
}
