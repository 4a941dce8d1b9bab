import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { log } from "../log.js";
import { ownReader, runsAsRoot } from "../identity.js";
import { PATHS, PROSODY_USER } from "../paths.js";
import type { CertificateFiles, CheckedCertificate } from "./check-certificate.js";
import { chooseCertificates, type CertificateChoice } from "./find-certificates.js";
import { grantKeyAccess, type KeyAccess } from "./key-access.js";
import { ensureSelfSigned } from "./self-signed.js";

/** What Prosody serves for one name. */
export interface ServedCertificate {
  name: string;
  files: CertificateFiles;
  source: "mounted" | "self-signed";
  /** The mounted pair as checked (absent for self-signed). */
  checked?: CheckedCertificate;
  access?: KeyAccess["how"];
  serial: string;
  fingerprint256: string;
  notAfter: Date;
}

export interface ResolveOptions {
  certsDir: string;
  certsGid: number;
  /** certbot's group fix on a writable mount: only when XMPP_CERTS_GID is set (else a private copy). */
  groupFix?: boolean;
  now?: Date;
  selfSignedDir?: string;
  /** What is served now; absent at startup. */
  current?: ReadonlyMap<string, ServedCertificate>;
}

export interface Resolution {
  served: Map<string, ServedCertificate>;
  /** Names whose served certificate changes. */
  changed: string[];
  /** Names that keep an older certificate because the mounted one was refused, with why. */
  refused: Array<{ name: string; reasons: string[] }>;
  selfSigned: string[];
}

const ROOT_READER = { uid: 0, gids: [0] };

/** Root reads every file; without root (docker run --user) only what this process may read is a candidate. */
function entrypointReader() {
  return runsAsRoot() ? ROOT_READER : ownReader();
}

export function describeCertificate(cert: CheckedCertificate): string {
  return `${cert.certPath} (issuer ${cert.issuer}, names ${cert.names.join(" ")}, serial ${cert.serial}, expires ${cert.notAfter.toISOString()})`;
}

/** Every name's checked choice in the directory (content only: access is granted later). */
export function chooseMounted(certsDir: string, names: readonly string[], now: Date): Map<string, CertificateChoice> {
  if (!existsSync(certsDir)) return new Map();
  return chooseCertificates(certsDir, names, { reader: entrypointReader(), now });
}

function selfSigned(name: string, dir: string): ServedCertificate {
  // Root keeps the pair, Prosody's group reads it; without root both are this process.
  const own = ownReader();
  const files = ensureSelfSigned(dir, name, runsAsRoot() ? { uid: 0, gid: PROSODY_USER.gid } : { uid: own.uid, gid: own.gids[0]! });
  const x509 = new X509Certificate(readFileSync(files.certPath));
  return {
    name,
    files: { certPath: files.certPath, keyPath: files.keyPath },
    source: "self-signed",
    serial: x509.serialNumber.toUpperCase(),
    fingerprint256: x509.fingerprint256,
    notAfter: new Date(x509.validTo),
  };
}

/**
 * Decides what every name serves. A valid mounted certificate wins (newest first); a name
 * whose mounted certificate is refused keeps what it served before, so a bad renewal never
 * replaces a good certificate; a name nothing covers gets the self-signed fallback.
 */
export function resolveCertificates(
  names: readonly string[],
  options: ResolveOptions,
  choices: ReadonlyMap<string, CertificateChoice> = chooseMounted(options.certsDir, names, options.now ?? new Date()),
): Resolution {
  const selfSignedDir = options.selfSignedDir ?? PATHS.selfSignedDir;
  const resolution: Resolution = { served: new Map(), changed: [], refused: [], selfSigned: [] };

  for (const name of names) {
    const current = options.current?.get(name);
    const choice = choices.get(name);
    const reasons = (choice?.rejected ?? []).map((r) => (r.reason.startsWith("/") ? r.reason : `${r.certPath}: ${r.reason}`));
    let next: ServedCertificate;

    if (choice?.chosen) {
      const cert = choice.chosen;
      if (current?.source === "mounted" && current.fingerprint256 === cert.fingerprint256) {
        next = current;
      } else {
        const access = grantKeyAccess(options.certsDir, name, cert, options.certsGid, { groupFix: options.groupFix ?? false });
        next = {
          name,
          files: access.files,
          source: "mounted",
          checked: cert,
          access: access.how,
          serial: cert.serial,
          fingerprint256: cert.fingerprint256,
          notAfter: cert.notAfter,
        };
      }
    } else if (current?.source === "mounted") {
      next = current;
      if (reasons.length > 0) resolution.refused.push({ name, reasons });
    } else {
      next = current ?? selfSigned(name, selfSignedDir);
      if (reasons.length > 0) resolution.refused.push({ name, reasons });
    }

    if (next.source === "self-signed") resolution.selfSigned.push(name);
    if (next !== current) resolution.changed.push(name);
    resolution.served.set(name, next);
  }
  return resolution;
}

/** The certbot command that gets one certificate covering every name (port 80 must reach certbot). */
export function certbotCommand(allNames: readonly string[]): string {
  return `certbot certonly --standalone ${allNames.map((name) => `-d ${name}`).join(" ")}`;
}

/**
 * Said at startup and at every periodic re-check while it holds, so it cannot be missed: one
 * line listing every uncovered name once, with the command that covers all names at once.
 */
export function warnSelfSigned(names: string[], certsDir: string, allNames: readonly string[] = names): void {
  if (names.length === 0) return;
  log(
    "warn",
    `WARNING: no valid certificate in ${certsDir} covers ${names.join(", ")}: serving a SELF-SIGNED certificate ` +
      `(kept in ${PATHS.selfSignedDir}). Clients will warn and other servers will refuse to federate. ` +
      `Mount your Let's Encrypt directory whole, e.g. -v /etc/letsencrypt:/etc/letsencrypt:ro, or set XMPP_CERTS_DIR. ` +
      `One certificate for every name this server uses: ${certbotCommand(allNames)}`,
  );
}
