import { chownSync, existsSync, mkdirSync } from "node:fs";
import type { CertificateFiles } from "../config/render-config.js";
import { PATHS, PROSODY_USER } from "../paths.js";
import { log } from "../log.js";
import type { Reader } from "./readable-by.js";
import type { CheckedCertificate } from "./check-certificate.js";
import { chooseCertificates, type CertificateChoice } from "./find-certificates.js";
import { ensureSelfSigned } from "./self-signed.js";

export interface PreparedCertificates {
  /** What Prosody is configured with, per name. */
  files: Map<string, CertificateFiles>;
  /** The validated certificate per name; absent where a self-signed one stands in. */
  checked: Map<string, CheckedCertificate>;
  selfSigned: string[];
}

export interface PrepareOptions {
  certsDir: string;
  reader: Reader;
  now?: Date;
  selfSignedDir?: string;
}

export function describeCertificate(cert: CheckedCertificate): string {
  return `${cert.certPath} (issuer ${cert.issuer}, names ${cert.names.join(" ")}, serial ${cert.serial}, expires ${cert.notAfter.toISOString()})`;
}

/**
 * Picks, for every name, a valid certificate Prosody can read; names that nothing covers get
 * the self-signed certificate kept in the data volume. Prosody is pointed at the real files
 * behind certbot's live/ links, so a later re-pointing of the links changes nothing served
 * until the new pair has been checked.
 */
export function prepareCertificates(names: string[], options: PrepareOptions): PreparedCertificates {
  const now = options.now ?? new Date();
  const selfSignedDir = options.selfSignedDir ?? PATHS.selfSignedDir;
  const mounted = existsSync(options.certsDir);
  if (!mounted) log("warn", `${options.certsDir} does not exist: nothing is mounted there`);
  const choices = mounted
    ? chooseCertificates(options.certsDir, names, { reader: options.reader, now })
    : new Map<string, CertificateChoice>();
  const files = new Map<string, CertificateFiles>();
  const checked = new Map<string, CheckedCertificate>();
  const selfSigned: string[] = [];

  for (const name of names) {
    const choice = choices.get(name);
    for (const rejected of choice?.rejected ?? []) {
      log("warn", `certificate ${rejected.certPath} not used for ${name}: ${rejected.reason}`);
    }
    if (choice?.chosen) {
      const cert = choice.chosen;
      files.set(name, { certPath: cert.realCertPath, keyPath: cert.realKeyPath });
      checked.set(name, cert);
      log("info", `certificate for ${name}: ${describeCertificate(cert)}`);
      continue;
    }
    mkdirSync(selfSignedDir, { recursive: true, mode: 0o750 });
    chownSync(selfSignedDir, 0, PROSODY_USER.gid);
    const generated = ensureSelfSigned(selfSignedDir, name, { uid: 0, gid: PROSODY_USER.gid });
    files.set(name, { certPath: generated.certPath, keyPath: generated.keyPath });
    selfSigned.push(name);
  }
  return { files, checked, selfSigned };
}

/** Said at startup and at every re-check while it holds, so it cannot be missed. */
export function warnSelfSigned(names: string[], certsDir: string): void {
  if (names.length === 0) return;
  log(
    "warn",
    `WARNING: no valid certificate in ${certsDir} covers ${names.join(", ")}: serving a SELF-SIGNED certificate ` +
      `(kept in ${PATHS.selfSignedDir}). Clients will warn and other servers will refuse to federate. ` +
      `Mount your Let's Encrypt directory, e.g. -v /etc/letsencrypt:/etc/letsencrypt:ro, or set XMPP_CERTS_DIR.`,
  );
}
