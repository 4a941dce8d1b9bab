import type { PeerCertificate } from "node:tls";
import { openSecureStream, type SecureMode } from "../xmpp-wire.js";

export type ProbeMode = SecureMode;

export interface ProbeOptions {
  host?: string;
  port: number;
  mode: ProbeMode;
  /** The XMPP domain: stream `to` for STARTTLS, and the SNI name when `sni` is on. */
  domain: string;
  sni: boolean;
  timeoutMs?: number;
}

export interface ProbedCertificate {
  serial: string;
  fingerprint256: string;
  /** The certificates sent, leaf first, as far as the peer's chain goes. */
  chain: PeerCertificate[];
}

function chainOf(leaf: PeerCertificate & { issuerCertificate?: PeerCertificate }): PeerCertificate[] {
  const chain: PeerCertificate[] = [];
  let current: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = leaf;
  while (current && !chain.includes(current)) {
    chain.push(current);
    current = current.issuerCertificate;
  }
  return chain;
}

/**
 * Connects like a client and reports the certificate the server sends. Used after a reload to
 * prove that each listener serves the new certificate; it does not judge trust.
 */
export async function probeServedCertificate(options: ProbeOptions): Promise<ProbedCertificate> {
  const host = options.host ?? "127.0.0.1";
  const socket = await openSecureStream({ ...options, host, verify: false, timeoutMs: options.timeoutMs ?? 3_000 });
  try {
    const leaf = socket.getPeerCertificate(true);
    if (!leaf?.raw) throw new Error(`no certificate from ${host}:${options.port}`);
    return { serial: leaf.serialNumber.toUpperCase(), fingerprint256: leaf.fingerprint256, chain: chainOf(leaf) };
  } finally {
    socket.destroy();
  }
}
