import net from "node:net";
import type tls from "node:tls";

// node:tls is loaded on first use, not with the entrypoint: it cannot be part of the V8
// startup snapshot the image starts from (see entrypoint/snapshot.ts), and only renewals need it.
const loadTls = () => process.getBuiltinModule("node:tls");

/**
 * The XMPP wire, as far as anything here speaks it by hand: TCP, stream headers, features,
 * STARTTLS, direct TLS (SNI, ALPN) and the read loop behind them. The listener verification,
 * the test clients and the bench all open streams through this file, so each step has one
 * implementation, and every wait has a limit whose error says what was awaited and from where.
 */

/** Which stream to open: client-to-server or server-to-server. */
export type StreamKind = "c2s" | "s2s";

/** How to reach TLS: STARTTLS on a c2s or s2s stream, or TLS from the first byte. */
export type SecureMode = "starttls" | "s2s-starttls" | "direct-tls";

const NAMESPACES: Record<StreamKind, string> = { c2s: "jabber:client", s2s: "jabber:server" };

const FEATURES = /<stream:features\b[^>]*(?:\/>|>[\s\S]*?<\/stream:features>)/;
const STREAM_ERROR = /<stream:error\b[\s\S]*?<\/stream:error>/;
const FEATURES_OR_STREAM_ERROR = new RegExp(`${FEATURES.source}|${STREAM_ERROR.source}`);
const STARTTLS_ANSWER = /<proceed\b[^>]*\/>|<failure\b[^>]*(?:\/>|>[\s\S]*?<\/failure>)/;

/** The opening tag of a stream to `domain`. */
export function streamHeader(domain: string, kind: StreamKind = "c2s"): string {
  return `<?xml version='1.0'?><stream:stream xmlns='${NAMESPACES[kind]}' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;
}

/** Whether features (as received) offer STARTTLS. */
export function offersStarttls(features: string): boolean {
  return /<starttls\b/.test(features);
}

/** Opens a TCP connection, or fails within `timeoutMs` saying where it tried. */
export function connectTcp(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`TCP connect to ${host}:${port} failed: ${error.message}`, { cause: error }));
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

/** Waits for a TLS socket's handshake, or fails within `timeoutMs` saying with whom. */
export function tlsHandshake(socket: tls.TLSSocket, where: string, timeoutMs: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      const code = (error as NodeJS.ErrnoException).code;
      reject(new Error(`TLS handshake with ${where} failed: ${error.message}${code && !error.message.includes(code) ? ` (${code})` : ""}`, { cause: error }));
    };
    const onError = (error: Error) => fail(error);
    const onClose = () => fail(new Error("connection closed during the handshake"));
    const onSecure = () => {
      cleanup();
      resolve(socket);
    };
    const timer = setTimeout(() => fail(new Error(`no handshake within ${timeoutMs} ms`)), timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      socket.off("error", onError);
      socket.off("close", onClose);
      socket.off("secureConnect", onSecure);
    }
    socket.once("error", onError);
    socket.once("close", onClose);
    socket.once("secureConnect", onSecure);
  });
}

/**
 * Reads what the peer sends on one socket (plain or TLS) as text, until a pattern appears. For
 * handshakes and short exchanges; a long-lived session takes the socket over with release().
 */
export class XmppWire {
  private received = "";
  private closed = false;
  private notify: (() => void) | undefined;
  private readonly onData = (data: Buffer) => {
    this.received += data.toString("utf8");
    this.notify?.();
  };
  private readonly onEnd = () => {
    this.closed = true;
    this.notify?.();
  };

  constructor(
    readonly socket: net.Socket,
    /** Who is on the other end, for error messages, e.g. "127.0.0.1:5222 (starttls)". */
    readonly where: string,
  ) {
    socket.on("data", this.onData);
    socket.on("close", this.onEnd);
    socket.on("error", this.onEnd);
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /**
   * Sends a stream header and returns the first <stream:features/>; with `acceptStreamError`,
   * the <stream:error/> sent instead is returned rather than thrown.
   */
  openStream(domain: string, kind: StreamKind, timeoutMs: number, { acceptStreamError = false } = {}): Promise<string> {
    this.send(streamHeader(domain, kind));
    return this.expect(acceptStreamError ? FEATURES_OR_STREAM_ERROR : FEATURES, "<stream:features/>", timeoutMs, { acceptStreamError });
  }

  /** Asks for TLS on this stream and waits for <proceed/>; afterwards TLS may take the socket. */
  async starttls(timeoutMs: number): Promise<void> {
    this.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    const answer = await this.expect(STARTTLS_ANSWER, "<proceed/>", timeoutMs);
    if (!answer.startsWith("<proceed")) throw new Error(`${this.where} refused STARTTLS: ${answer}`);
  }

  /**
   * Waits for `pattern`, consumes the input up to the end of the match and returns the match.
   * A stream error (unless accepted), a closed connection or the time limit fails the wait.
   */
  async expect(pattern: RegExp, what: string, timeoutMs: number, { acceptStreamError = false } = {}): Promise<string> {
    return (await this.expectMatch(pattern, what, timeoutMs, { acceptStreamError }))[0];
  }

  async expectMatch(pattern: RegExp, what: string, timeoutMs: number, { acceptStreamError = false } = {}): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const match = pattern.exec(this.received);
      if (match) {
        this.received = this.received.slice(match.index + match[0].length);
        return match;
      }
      const streamError = acceptStreamError ? null : STREAM_ERROR.exec(this.received);
      if (streamError) throw new Error(`${this.where} sent a stream error while we waited for ${what}: ${streamError[0]}`);
      if (this.closed) throw new Error(`${this.where} closed the connection while we waited for ${what}; received: ${this.received || "nothing"}`);
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} from ${this.where}; received: ${this.received || "nothing"}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remainingMs);
        this.notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.notify = undefined;
    }
  }

  /** What arrived and was not consumed by a wait. */
  unread(): string {
    return this.received;
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** Stops reading, so TLS or a session can take the socket over. */
  release(): void {
    this.socket.off("data", this.onData);
    this.socket.off("close", this.onEnd);
    this.socket.off("error", this.onEnd);
  }

  destroy(): void {
    this.release();
    this.socket.destroy();
  }
}

export interface SecureStreamOptions {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
  mode: SecureMode;
  /** The XMPP domain: the stream's `to`, the SNI name when `sni` is on, the identity checked. */
  domain: string;
  sni: boolean;
  /** Trust anchors; without them the system roots. */
  caPem?: string;
  /** false: complete the handshake whatever is served (to inspect it), and let the caller judge. */
  verify: boolean;
  /** Limit for all steps together (TCP connect, features, <proceed/>, handshake); the error names the step. */
  timeoutMs: number;
  /** TLS versions to offer (Node's defaults otherwise: 1.2 and 1.3). */
  versions?: Pick<tls.ConnectionOptions, "minVersion" | "maxVersion">;
}

/** Describes a target for errors: "127.0.0.1:5222 (starttls, SNI example.org)". */
export function describeTarget({ host = "127.0.0.1", port, mode, sni, domain }: Pick<SecureStreamOptions, "host" | "port" | "mode" | "sni" | "domain">): string {
  return `${host}:${port} (${mode}${sni ? `, SNI ${domain}` : ", no SNI"})`;
}

/**
 * Connects and reaches TLS the way `mode` says, and returns the secure socket once the
 * handshake is done. After STARTTLS the caller opens a fresh stream on it, as RFC 6120 says.
 */
export async function openSecureStream(options: SecureStreamOptions): Promise<tls.TLSSocket> {
  const { host = "127.0.0.1", port, mode, domain, sni, caPem, verify, timeoutMs, versions } = options;
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(deadline - Date.now(), 1);
  const where = describeTarget(options);
  const tlsOptions: tls.ConnectionOptions = {
    ...(sni ? { servername: domain } : {}),
    ...(caPem ? { ca: caPem } : {}),
    rejectUnauthorized: verify,
    ...versions,
    // The identity to check is the XMPP domain, not the address connected to.
    checkServerIdentity: (_host, cert) => loadTls().checkServerIdentity(domain, cert),
  };
  if (mode === "direct-tls") {
    const tcp = await connectTcp(host, port, left());
    // XEP-0368: direct TLS names the protocol it will carry.
    return tlsHandshake(loadTls().connect({ socket: tcp, ALPNProtocols: ["xmpp-client"], ...tlsOptions }), where, left());
  }
  const tcp = await connectTcp(host, port, left());
  const wire = new XmppWire(tcp, where);
  try {
    const features = await wire.openStream(domain, mode === "s2s-starttls" ? "s2s" : "c2s", left());
    if (!offersStarttls(features)) throw new Error(`${where} did not offer STARTTLS; features: ${features}`);
    await wire.starttls(left());
  } catch (error) {
    wire.destroy();
    throw error;
  }
  wire.release();
  return tlsHandshake(loadTls().connect({ socket: tcp, ...tlsOptions }), where, left());
}
