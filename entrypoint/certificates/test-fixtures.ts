import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateRsaKeyPem, issueCertificate } from "./issue-certificate.js";
import type { IssuedCertificate } from "./issue-certificate.js";

export const DAY_MS = 86_400_000;

/** Who runs the tests; files the tests create belong to this uid and gid. */
export const testUser = { uid: process.getuid!(), gid: process.getgid!() };
/** A reader that is neither the files' owner nor in their group. */
export const stranger = { uid: 4242, gids: [4243] };

/** A world-searchable temporary directory (mkdtemp makes 0700), removed by one of `cleanups`. */
export function makeTempDir(cleanups: (() => void)[]): string {
  const dir = mkdtempSync(join(tmpdir(), "certificates-test-"));
  chmodSync(dir, 0o755);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// RSA key generation dominates fixture cost: the CAs share keys across tests.
let cachedAuthorities: { root: IssuedCertificate; intermediate: IssuedCertificate } | undefined;

export function testAuthorities(): { root: IssuedCertificate; intermediate: IssuedCertificate } {
  if (!cachedAuthorities) {
    const root = issueCertificate({ names: [], commonName: "Test Root CA", isCa: true });
    const intermediate = issueCertificate({
      names: [],
      commonName: "Test Intermediate R1",
      isCa: true,
      issuer: root,
    });
    cachedAuthorities = { root, intermediate };
  }
  return cachedAuthorities;
}

export interface LeafOptions {
  names: string[];
  notBefore?: Date;
  notAfter?: Date;
  keyPem?: string;
  commonName?: string;
}

/** A leaf issued by the test intermediate, with `fullchainPem` = leaf + intermediate. */
export function issueLeaf(options: LeafOptions): IssuedCertificate & { fullchainPem: string } {
  const { intermediate } = testAuthorities();
  const leaf = issueCertificate({
    ...options,
    keyPem: options.keyPem ?? generateRsaKeyPem(),
    issuer: intermediate,
  });
  return { ...leaf, fullchainPem: leaf.certPem + intermediate.certPem };
}

export function writeFile(path: string, contents: string | Buffer, mode = 0o644): string {
  writeFileSync(path, contents);
  chmodSync(path, mode);
  return path;
}

/**
 * A certbot lineage as certbot writes it: real files in archive/<lineage>/*N.pem, relative
 * symlinks in live/<lineage>/, live/ and archive/ 0700, privkey 0600.
 */
export function writeCertbotLineage(
  letsencryptDir: string,
  lineage: string,
  pair: { fullchainPem: string; keyPem: string },
  version = 1,
): { certPath: string; keyPath: string } {
  const archive = join(letsencryptDir, "archive", lineage);
  const live = join(letsencryptDir, "live", lineage);
  mkdirSync(archive, { recursive: true });
  mkdirSync(live, { recursive: true });
  chmodSync(join(letsencryptDir, "archive"), 0o700);
  chmodSync(join(letsencryptDir, "live"), 0o700);
  writeFile(join(archive, `fullchain${version}.pem`), pair.fullchainPem);
  writeFile(join(archive, `privkey${version}.pem`), pair.keyPem, 0o600);
  const certPath = join(live, "fullchain.pem");
  const keyPath = join(live, "privkey.pem");
  rmSync(certPath, { force: true });
  rmSync(keyPath, { force: true });
  symlinkSync(`../../archive/${lineage}/fullchain${version}.pem`, certPath);
  symlinkSync(`../../archive/${lineage}/privkey${version}.pem`, keyPath);
  writeFile(join(letsencryptDir, "live", "README"), "This directory contains your keys and certificates.\n");
  return { certPath, keyPath };
}
