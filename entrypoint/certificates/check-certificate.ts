import { X509Certificate, createPrivateKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { readRegularFile, RefusedFile } from "../read-regular-file.js";
import { isReadableBy } from "./readable-by.js";
import type { Reader } from "./readable-by.js";

/** A certificate and its key by path: what a check reads, and what Prosody is pointed at. */
export interface CertificateFiles {
  certPath: string;
  keyPath: string;
}

export interface CheckedCertificate {
  certPath: string;
  keyPath: string;
  realCertPath: string;
  realKeyPath: string;
  /** The leaf's DNS SANs, or its CN when it has none. */
  names: string[];
  /** Upper-case hex, as `openssl x509 -serial` prints it. */
  serial: string;
  /** The issuer's CN, or the whole issuer name when it has no CN. */
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
  chainLength: number;
}

export interface CheckOptions {
  /** The domain the certificate must cover. */
  name: string;
  now?: Date;
  /** Who must be able to read both files: Prosody's uid and groups. */
  reader: Reader;
}

/** A certificate pair Prosody could not use; `file` is the one to fix. */
export class CertificateError extends Error {
  override readonly name = "CertificateError";

  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${withRealPath(file)}: ${reason}`);
  }
}

/** certbot's live/ names are links; the archive file behind one is what the user inspects. */
function withRealPath(file: string): string {
  try {
    const real = realpathSync(file);
    return real === resolve(file) ? file : `${file} (${real})`;
  } catch {
    return file;
  }
}

const DAY_MS = 86_400_000;

export function checkCertificate(files: CertificateFiles, options: CheckOptions): CheckedCertificate {
  return loadCertificatePair(files, options.reader).checkFor(options.name, options.now);
}

/**
 * A pair read and parsed once, to be checked against any number of names: startup checks
 * every candidate for every domain, and parsing dominates the cost.
 */
export interface LoadedCertificatePair {
  files: CertificateFiles;
  /** The names the leaf covers; undefined when the certificate could not be parsed. */
  names: string[] | undefined;
  /** Whether this pair is worth checking for `name` (unknown names might cover it). */
  mightCover(name: string): boolean;
  /** Throws the first problem for `name`, in the documented order. */
  checkFor(name: string, now?: Date): CheckedCertificate;
}

/** With `within`, both files must really be in that directory (certbot's live/ links into archive/ are). */
export function loadCertificatePair(files: CertificateFiles, reader: Reader, within?: string): LoadedCertificatePair {
  const certPath = resolve(files.certPath);
  const keyPath = resolve(files.keyPath);
  // Problems that hold whatever the name; the first one found is the one reported.
  const problems: CertificateError[] = [];
  const note = (file: string, reason: string) => problems.push(new CertificateError(file, reason));

  for (const path of [certPath, keyPath]) {
    const readability = isReadableBy(path, reader);
    if (!readability.readable) note(path, readability.fileProblem ?? readability.reason);
  }

  const chain = parseCertificateChain(certPath, within);
  if (!chain.ok) note(certPath, chain.reason);
  const key = parsePrivateKey(keyPath, within);
  if (!key.ok) note(keyPath, key.reason);

  let leaf: X509Certificate | undefined;
  let names: string[] | undefined;
  if (chain.ok) {
    leaf = chain.certificates[0]!;
    names = namesOf(leaf);
    if (key.ok) {
      const mismatch = describeKeyMismatch(chain.certificates, key.key);
      if (mismatch) note(keyPath, mismatch);
    }
  }
  const chainOrderProblem = chain.ok ? describeChainOrderProblem(chain.certificates) : undefined;

  return {
    files,
    names,
    mightCover: (name) => names === undefined || coversName(names, name),
    checkFor(name, now = new Date()) {
      if (problems[0]) throw problems[0];
      if (!chain.ok || !leaf || !names) throw new Error("unreachable: a parsed pair has a leaf");
      if (!coversName(names, name)) {
        throw new CertificateError(certPath, `does not cover ${name} (it covers ${names.join(", ") || "no name"})`);
      }
      const notBefore = new Date(leaf.validFrom);
      const notAfter = new Date(leaf.validTo);
      if (now < notBefore) {
        throw new CertificateError(certPath, `is not valid yet: valid from ${notBefore.toISOString()}`);
      }
      if (now > notAfter) {
        throw new CertificateError(certPath, `expired on ${notAfter.toISOString()}`);
      }
      if (chainOrderProblem) throw new CertificateError(certPath, chainOrderProblem);
      return {
        certPath: files.certPath,
        keyPath: files.keyPath,
        realCertPath: realpathSync(certPath),
        realKeyPath: realpathSync(keyPath),
        names,
        serial: leaf.serialNumber.toUpperCase(),
        issuer: commonNameOf(leaf.issuer) ?? leaf.issuer.split("\n").join(", "),
        notBefore,
        notAfter,
        fingerprint256: leaf.fingerprint256,
        chainLength: chain.certificates.length,
      };
    },
  };
}

/**
 * Whether a certificate naming `names` covers `name`. A wildcard stands for exactly one
 * leftmost label: `*.example.org` covers `conference.example.org`, not `example.org` nor
 * `a.b.example.org`.
 */
export function coversName(names: readonly string[], name: string): boolean {
  const wanted = normalizeName(name);
  return names.some((candidate) => {
    const pattern = normalizeName(candidate);
    if (!pattern.startsWith("*.")) return pattern === wanted;
    const firstDot = wanted.indexOf(".");
    return firstDot > 0 && wanted.slice(firstDot + 1) === pattern.slice(2);
  });
}

/** Whole days until `notAfter`, rounded down; negative once expired. */
export function daysLeft(cert: { notAfter: Date }, now: Date = new Date()): number {
  return Math.floor((cert.notAfter.getTime() - now.getTime()) / DAY_MS);
}

function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, "");
}

type Parsed<T> = ({ ok: true } & T) | { ok: false; reason: string };

const BEGIN_CERTIFICATE = "-----BEGIN CERTIFICATE-----";
const END_CERTIFICATE = "-----END CERTIFICATE-----";

/**
 * The certificate blocks in order, found with indexOf in one pass: a lazy regex from every
 * BEGIN to the next END is quadratic when the ENDs are missing. `unterminated` is set when a
 * block has no END line before the next BEGIN or the end of the file.
 */
function certificateBlocks(text: string): { blocks: string[]; unterminated: boolean } {
  const blocks: string[] = [];
  let begin = text.indexOf(BEGIN_CERTIFICATE);
  while (begin >= 0) {
    const nextBegin = text.indexOf(BEGIN_CERTIFICATE, begin + BEGIN_CERTIFICATE.length);
    const end = text.indexOf(END_CERTIFICATE, begin + BEGIN_CERTIFICATE.length);
    if (end < 0 || (nextBegin >= 0 && nextBegin < end)) return { blocks, unterminated: true };
    blocks.push(text.slice(begin, end + END_CERTIFICATE.length));
    begin = nextBegin;
  }
  return { blocks, unterminated: false };
}

function parseCertificateChain(path: string, within: string | undefined): Parsed<{ certificates: X509Certificate[] }> {
  const contents = readContents(path, within);
  if (!contents.ok) return contents;
  const text = contents.bytes.toString("latin1");
  if (text.trim() === "") return { ok: false, reason: "is empty" };

  const { blocks, unterminated } = certificateBlocks(text);
  if (unterminated) {
    return { ok: false, reason: `is truncated: certificate ${blocks.length + 1} has no END line` };
  }
  if (blocks.length === 0) {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
      return { ok: false, reason: "holds a private key, not a certificate" };
    }
    if (parsesAsDer(contents.bytes)) {
      return { ok: false, reason: "is a DER (binary) certificate; Prosody needs PEM" };
    }
    return { ok: false, reason: "holds no PEM certificate" };
  }

  const certificates: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      certificates.push(new X509Certificate(block));
    } catch (error) {
      return { ok: false, reason: `certificate ${index + 1} does not parse (${messageOf(error)})` };
    }
  }
  return { ok: true, certificates };
}

function parsesAsDer(bytes: Buffer): boolean {
  try {
    new X509Certificate(bytes);
    return true;
  } catch {
    return false;
  }
}

function parsePrivateKey(path: string, within: string | undefined): Parsed<{ key: KeyObject }> {
  const contents = readContents(path, within);
  if (!contents.ok) return contents;
  const text = contents.bytes.toString("latin1");
  if (text.trim() === "") return { ok: false, reason: "is empty" };
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    return { ok: false, reason: "is encrypted with a passphrase; Prosody needs an unencrypted key" };
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) && !/-----END [A-Z ]*PRIVATE KEY-----/.test(text)) {
    return { ok: false, reason: "is truncated: the private key has no END line" };
  }
  try {
    return { ok: true, key: createPrivateKey(contents.bytes) };
  } catch (error) {
    return { ok: false, reason: `does not parse as a private key (${messageOf(error)})` };
  }
}

function readContents(path: string, within: string | undefined): Parsed<{ bytes: Buffer }> {
  try {
    return { ok: true, bytes: readRegularFile(path, { within }) };
  } catch (error) {
    return { ok: false, reason: `cannot be read (${error instanceof RefusedFile ? error.reason : messageOf(error)})` };
  }
}

function describeKeyMismatch(certificates: X509Certificate[], key: KeyObject): string | undefined {
  if (certificates[0]!.checkPrivateKey(key)) return undefined;
  const matching = certificates.findIndex((certificate) => certificate.checkPrivateKey(key));
  // Seen mid-renewal, when certbot has re-pointed one symlink but not yet the other.
  if (matching < 0) return "does not match the certificate (mid-renewal, or from another lineage?)";
  return `matches certificate ${matching + 1} of the chain, not the first: the leaf must come first`;
}

/** Each certificate must be issued (name and signature) by the one after it. */
function describeChainOrderProblem(certificates: X509Certificate[]): string | undefined {
  for (let position = 0; position + 1 < certificates.length; position++) {
    const subject = certificates[position]!;
    const next = certificates[position + 1]!;
    if (!subject.checkIssued(next) || !subject.verify(next.publicKey)) {
      return (
        `chain order: certificate ${position + 1} of ${certificates.length} (${label(subject.subject)}) ` +
        `is not issued by certificate ${position + 2} (${label(next.subject)}); ` +
        `expected the leaf first, then each issuer`
      );
    }
  }
  return undefined;
}

function namesOf(certificate: X509Certificate): string[] {
  const dnsNames = dnsNamesOf(certificate.subjectAltName);
  if (dnsNames.length > 0) return dnsNames;
  const commonName = commonNameOf(certificate.subject);
  return commonName === undefined ? [] : [commonName];
}

/** Node prints SANs as `DNS:a, DNS:b, IP Address:…`, JSON-quoting values with special characters. */
function dnsNamesOf(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const names: string[] = [];
  for (const match of subjectAltName.matchAll(/(?:^|, )DNS:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    names.push(unquote(match[1]!));
  }
  return names;
}

/** Node prints names one attribute per line: `C=US\nCN=example.org`. */
function commonNameOf(distinguishedName: string): string | undefined {
  const line = distinguishedName.split("\n").find((entry) => entry.startsWith("CN="));
  return line === undefined ? undefined : unquote(line.slice(3));
}

function label(distinguishedName: string): string {
  const commonName = commonNameOf(distinguishedName);
  return commonName === undefined ? distinguishedName.split("\n").join(", ") : `CN=${commonName}`;
}

function unquote(value: string): string {
  return value.startsWith('"') ? (JSON.parse(value) as string) : value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
