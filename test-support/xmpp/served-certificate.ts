import { X509Certificate } from "node:crypto";
import type tls from "node:tls";

import { openSecureStream, type SecureMode, type SecureStreamOptions } from "../../entrypoint/xmpp-wire.js";
import { DEFAULT_STEP_TIMEOUT_MS, LOOPBACK } from "./loopback.js";

export interface ServedCertificateOptions {
  port: number;
  mode: SecureMode;
  domain: string;
  /** Send `domain` as TLS server name. */
  sni: boolean;
  /** Trust anchor for `authorized`; without it only the system roots count. */
  caPem?: string;
  timeoutMs?: number;
  /** TLS versions to offer (Node's defaults otherwise). */
  versions?: SecureStreamOptions["versions"];
}

export interface ServedCertificate {
  /** Upper-case hex, as issueCertificate() reports it. */
  serial: string;
  subject: string;
  /** As Node prints it: "DNS:example.org, DNS:*.example.org". */
  subjectAltName: string;
  issuer: string;
  validTo: string;
  fingerprint256: string;
  /**
   * Subjects of the certificates the server sent, leaf first. (Node lists them in issuer
   * order; a trust anchor from `caPem` that Node appends is left out.)
   */
  chain: string[];
  /** Chain verified against `caPem` and the leaf names `domain`. */
  authorized: boolean;
  authorizationError?: string;
  tlsVersion: string | null;
  /** The ALPN protocol the server chose (direct TLS offers `xmpp-client`), or null. */
  alpnProtocol: string | null;
}

/** Handshakes without rejecting anything (so a bad certificate can be inspected) and reports. */
export async function servedCertificate(options: ServedCertificateOptions): Promise<ServedCertificate> {
  const { port, mode, domain, sni, caPem, timeoutMs = DEFAULT_STEP_TIMEOUT_MS, versions } = options;
  const socket = await openSecureStream({ host: LOOPBACK, port, mode, domain, sni, ...(caPem ? { caPem } : {}), ...(versions ? { versions } : {}), verify: false, timeoutMs });
  try {
    const peer = socket.getPeerCertificate(true);
    if (!peer.raw) throw new Error(`No certificate served on ${LOOPBACK}:${port} (${mode})`);
    const leaf = new X509Certificate(peer.raw);
    const authorizationError = socket.authorizationError as unknown as string | Error | undefined;
    return {
      serial: leaf.serialNumber.toUpperCase(),
      subject: oneLine(leaf.subject),
      subjectAltName: leaf.subjectAltName ?? "",
      issuer: oneLine(leaf.issuer),
      validTo: leaf.validTo,
      fingerprint256: leaf.fingerprint256,
      chain: sentChain(peer, caPem).map((cert) => oneLine(cert.subject)),
      authorized: socket.authorized,
      ...(authorizationError ? { authorizationError: String(authorizationError) } : {}),
      tlsVersion: socket.getProtocol(),
      alpnProtocol: socket.alpnProtocol || null,
    };
  } finally {
    socket.destroy();
  }
}

function sentChain(peer: tls.DetailedPeerCertificate, caPem: string | undefined): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let cert: tls.DetailedPeerCertificate | undefined = peer; cert?.raw; cert = cert.issuerCertificate) {
    const parsed = new X509Certificate(cert.raw);
    if (seen.has(parsed.fingerprint256)) break; // a self-signed cert is its own issuer
    seen.add(parsed.fingerprint256);
    chain.push(parsed);
  }
  const anchors = new Set(splitPem(caPem ?? "").map((pem) => new X509Certificate(pem).fingerprint256));
  while (chain.length > 1 && anchors.has(chain.at(-1)!.fingerprint256)) chain.pop();
  return chain;
}

/** ACME servers issue leaves with an empty subject (names only in the SAN): Node then gives undefined. */
function oneLine(distinguishedName: string | undefined): string {
  return (distinguishedName ?? "").split("\n").join(", ");
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}
