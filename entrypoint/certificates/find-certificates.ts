import { lstatSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { loadCertificatePair } from "./check-certificate.js";
import type { CheckedCertificate, LoadedCertificatePair } from "./check-certificate.js";
import type { Reader } from "./readable-by.js";

/**
 * - certbot: `live/<lineage>/fullchain.pem` + `privkey.pem`
 * - plain-directory: `<name>/fullchain.pem` + `privkey.pem`
 * - plain-files: `<name>.crt` (or `.pem`) + `<name>.key`
 * - kubernetes-tls: a `kubernetes.io/tls` Secret mounted as a directory, `tls.crt` + `tls.key`
 *   (`ca.crt`, when there, is the issuer's CA, not part of the chain served)
 */
export type CertificateLayout = "certbot" | "plain-directory" | "plain-files" | "kubernetes-tls";

export interface CertificateCandidate {
  certPath: string;
  keyPath: string;
  lineage: string;
  layout: CertificateLayout;
}

export interface SkippedEntry {
  path: string;
  reason: string;
  /** "unusable": might be some name's certificate (a dangling symlink); "ignored": is none. */
  kind: "unusable" | "ignored";
}

export interface CertificateSearch {
  candidates: CertificateCandidate[];
  /** Entries that are not certificates (README) or cannot be (dangling symlinks). */
  skipped: SkippedEntry[];
}

export interface ChooseOptions {
  reader: Reader;
  now?: Date;
}

export interface CertificateChoice {
  chosen?: CheckedCertificate;
  /** Every candidate that might cover the name but cannot be used, with why. */
  rejected: { certPath: string; reason: string }[];
}

const FULLCHAIN = "fullchain.pem";
const PRIVKEY = "privkey.pem";
const TLS_CRT = "tls.crt";
const TLS_KEY = "tls.key";

/**
 * Lists the certificate/key pairs under `dir`: a certbot root (/etc/letsencrypt), its live/
 * directory, one lineage directory, a mounted Kubernetes TLS Secret, or a plain directory of
 * lineage-like folders, Secrets and `<name>.crt`/`<name>.key` files. Never throws: what it
 * cannot use lands in `skipped`. Kubelet's hidden `..data` and `..<timestamp>` entries are
 * reached only through the Secret's own `tls.crt`/`tls.key` links.
 */
export function findCertificateCandidates(dir: string): CertificateSearch {
  const root = resolve(dir);
  const search: CertificateSearch = { candidates: [], skipped: [] };
  if (!isDirectory(root)) {
    search.skipped.push({ path: root, reason: describeUnusable(root) ?? "is not a directory", kind: "unusable" });
    return search;
  }

  const liveDirectory = join(root, "live");
  if (isDirectory(liveDirectory)) {
    scanLineages(liveDirectory, "certbot", search);
  } else if (basename(root) === "live") {
    scanLineages(root, "certbot", search);
  } else if (exists(join(root, FULLCHAIN))) {
    const layout = basename(dirname(root)) === "live" ? "certbot" : "plain-directory";
    addLineage(root, layout, search);
  } else if (exists(join(root, TLS_CRT))) {
    addSecret(root, search);
  } else {
    scanPlainDirectory(root, search);
  }
  search.candidates.sort((a, b) => a.certPath.localeCompare(b.certPath));
  return search;
}

/** A Secret volume: `tls.crt` -> `..data/tls.crt`, with `..data` -> `..<timestamp>`, all inside the mount. */
function addSecret(directory: string, search: CertificateSearch): void {
  const certPath = join(directory, TLS_CRT);
  const unusable = describeUnusable(certPath);
  if (unusable) search.skipped.push({ path: certPath, reason: unusable, kind: "unusable" });
  else search.candidates.push({ certPath, keyPath: join(directory, TLS_KEY), lineage: basename(directory), layout: "kubernetes-tls" });
}

/** The newest usable certificate in `dir` covering `name`, and why the others were rejected. */
export function chooseCertificate(dir: string, name: string, options: ChooseOptions): CertificateChoice {
  return chooseCertificates(dir, [name], options).get(name)!;
}

/** `chooseCertificate` for several names, reading and parsing each file once. */
export function chooseCertificates(
  dir: string,
  names: readonly string[],
  options: ChooseOptions,
): Map<string, CertificateChoice> {
  const search = findCertificateCandidates(dir);
  const pairs = search.candidates.map((candidate) => loadCertificatePair(candidate, options.reader, dir));
  // Dangling links might be any name's certificate: a live/ mounted without its archive/.
  const unreadable = search.skipped
    .filter((entry) => entry.kind === "unusable")
    .map((entry) => ({ certPath: entry.path, reason: entry.reason }));

  const choices = new Map<string, CertificateChoice>();
  for (const name of names) {
    const choice: CertificateChoice = { rejected: [...unreadable] };
    for (const pair of pairs) {
      if (!pair.mightCover(name)) continue;
      const checked = checkQuietly(pair, name, options.now, choice);
      if (checked && (!choice.chosen || isNewer(checked, choice.chosen))) choice.chosen = checked;
    }
    choices.set(name, choice);
  }
  return choices;
}

function checkQuietly(
  pair: LoadedCertificatePair,
  name: string,
  now: Date | undefined,
  choice: CertificateChoice,
): CheckedCertificate | undefined {
  try {
    return pair.checkFor(name, now);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    choice.rejected.push({ certPath: pair.files.certPath, reason });
    return undefined;
  }
}

function isNewer(a: CheckedCertificate, b: CheckedCertificate): boolean {
  const byIssue = a.notBefore.getTime() - b.notBefore.getTime();
  return byIssue !== 0 ? byIssue > 0 : a.notAfter.getTime() > b.notAfter.getTime();
}

function scanLineages(directory: string, layout: CertificateLayout, search: CertificateSearch): void {
  for (const entry of listEntries(directory, search)) {
    const path = join(directory, entry);
    const unusable = describeUnusable(path);
    if (unusable) search.skipped.push({ path, reason: unusable, kind: "unusable" });
    else if (!isDirectory(path)) {
      search.skipped.push({ path, reason: "is not a certificate lineage directory", kind: "ignored" });
    }
    else addLineage(path, layout, search);
  }
}

function addLineage(directory: string, layout: CertificateLayout, search: CertificateSearch): void {
  const certPath = join(directory, FULLCHAIN);
  const unusable = describeUnusable(certPath);
  if (unusable) {
    const hint =
      layout === "certbot" && unusable.includes("dangling")
        ? " (mount the whole /etc/letsencrypt, not only live/: live/* link into ../../archive)"
        : "";
    search.skipped.push({ path: certPath, reason: unusable + hint, kind: "unusable" });
    return;
  }
  // A missing privkey.pem stays a candidate so its check names the missing key.
  search.candidates.push({ certPath, keyPath: join(directory, PRIVKEY), lineage: basename(directory), layout });
}

function scanPlainDirectory(directory: string, search: CertificateSearch): void {
  const entries = listEntries(directory, search);
  const keyStems = new Set(
    entries.filter((entry) => extname(entry) === ".key").map((entry) => basename(entry, ".key")),
  );
  for (const entry of entries) {
    const path = join(directory, entry);
    const extension = extname(entry);
    if (extension === ".key") continue; // checked with its certificate
    const unusable = describeUnusable(path);
    if (unusable) {
      search.skipped.push({ path, reason: unusable, kind: "unusable" });
    } else if (isDirectory(path)) {
      if (exists(join(path, FULLCHAIN))) addLineage(path, "plain-directory", search);
      else if (exists(join(path, TLS_CRT))) addSecret(path, search);
      else search.skipped.push({ path, reason: `has no ${FULLCHAIN} or ${TLS_CRT}`, kind: "ignored" });
    } else if (extension === ".crt" || (extension === ".pem" && keyStems.has(basename(entry, ".pem")))) {
      const stem = basename(entry, extension);
      const keyPath = join(directory, `${stem}.key`);
      search.candidates.push({ certPath: path, keyPath, lineage: stem, layout: "plain-files" });
    } else if (extension !== ".pem") {
      search.skipped.push({ path, reason: "is not a certificate (.crt, or .pem beside a .key)", kind: "ignored" });
    }
  }
}

function listEntries(directory: string, search: CertificateSearch): string[] {
  try {
    return readdirSync(directory)
      .filter((entry) => !entry.startsWith("."))
      .sort();
  } catch (error) {
    search.skipped.push({ path: directory, reason: `cannot be listed (${messageOf(error)})`, kind: "unusable" });
    return [];
  }
}

/** Why `path` cannot be followed at all (missing, dangling, looping), or undefined. */
function describeUnusable(path: string): string | undefined {
  try {
    statSync(path);
    return undefined;
  } catch (error) {
    const dangling = (error as NodeJS.ErrnoException).code === "ENOENT" && isSymlink(path);
    if (dangling) return `is a dangling symlink to ${readlinkSync(path)}`;
    return `cannot be opened (${messageOf(error)})`;
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
