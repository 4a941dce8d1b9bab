import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls, type PeerCertificate } from "node:tls";

export type ProbeMode = "direct-tls" | "starttls" | "s2s-starttls";

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

const STREAM_NS = { "starttls": "jabber:client", "s2s-starttls": "jabber:server" } as const;

function readUntil(socket: Socket, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = "";
    const onData = (chunk: Buffer) => {
      received += chunk.toString("utf8");
      if (pattern.test(received)) {
        cleanup();
        resolve(received);
      } else if (/<stream:error|<failure/.test(received)) {
        cleanup();
        reject(new Error(`the server answered ${received.slice(-300)}`));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`the connection closed after ${JSON.stringify(received.slice(-300))}`));
    };
    const cleanup = () => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
    };
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
  });
}

/** Upgrades a fresh XMPP stream with STARTTLS; rejects when the server does not offer it. */
async function negotiateStarttls(socket: Socket, namespace: string, domain: string): Promise<void> {
  socket.write(
    `<?xml version='1.0'?><stream:stream xmlns='${namespace}' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`,
  );
  const features = await readUntil(socket, /<\/stream:features>|<stream:features\/>/);
  if (!/<starttls[\s>/]/.test(features)) throw new Error(`STARTTLS is not offered for ${domain}`);
  socket.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  await readUntil(socket, /<proceed[\s/>]/);
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
  const timeoutMs = options.timeoutMs ?? 3_000;
  const tcp = connectTcp({ host, port: options.port });
  const timer = setTimeout(() => tcp.destroy(new Error(`no answer from ${host}:${options.port} within ${timeoutMs} ms`)), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once("connect", resolve);
      tcp.once("error", reject);
    });
    if (options.mode !== "direct-tls") await negotiateStarttls(tcp, STREAM_NS[options.mode], options.domain);
    const tls = connectTls({
      socket: tcp,
      ...(options.sni ? { servername: options.domain } : {}),
      rejectUnauthorized: false,
    });
    await new Promise<void>((resolve, reject) => {
      tls.once("secureConnect", resolve);
      tls.once("error", reject);
    });
    const leaf = tls.getPeerCertificate(true);
    tls.destroy();
    if (!leaf?.raw) throw new Error(`no certificate from ${host}:${options.port}`);
    return { serial: leaf.serialNumber.toUpperCase(), fingerprint256: leaf.fingerprint256, chain: chainOf(leaf) };
  } finally {
    clearTimeout(timer);
    tcp.destroy();
  }
}
