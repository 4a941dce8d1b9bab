import { randomUUID, X509Certificate } from "node:crypto";
import { EventEmitter } from "node:events";
import net from "node:net";
import tls from "node:tls";

// @ts-ignore -- @xmpp/client ships no type declarations; the shapes used are typed below.
import { client as createXmppClient, xml } from "@xmpp/client";

import { sleep } from "./wait-for.js";

/** Tests reach the server only through ports published on the loopback address. */
const LOOPBACK = "127.0.0.1";
const DEFAULT_STEP_TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Real client sessions (@xmpp/client)
// ---------------------------------------------------------------------------------------------

export type ClientTlsMode = "starttls" | "direct-tls";

export interface ConnectClientOptions {
  /** Host port published on 127.0.0.1. */
  port: number;
  mode: ClientTlsMode;
  domain: string;
  username: string;
  password: string;
  /** The only trust anchor: the server must present a chain that verifies against it. */
  caPem: string;
  /** Send the domain as TLS server name. Default true. */
  sni?: boolean;
  resource?: string;
  /** Limit for TCP + TLS + SASL + bind. Default 15 000 ms. */
  timeoutMs?: number;
}

export interface ReceivedMessage {
  from: string;
  to: string;
  type: string;
  body: string;
}

export interface DropInfo {
  /** True when the server closed the XML stream before the socket went away. */
  streamClosedByServer: boolean;
  /** Stream error condition or socket error, when there was one. */
  reason?: string;
}

export interface XmppTestClient extends AsyncDisposable {
  /** Full JID bound by the server. */
  readonly jid: string;
  /** Serial (upper-case hex) of the certificate this session was verified against. */
  readonly serverCertificateSerial: string;
  send(toJid: string, body: string): Promise<void>;
  /** Resolves with the first message (received since login, not yet consumed) that matches. */
  waitForMessage(match: string | ((message: ReceivedMessage) => boolean), timeoutMs?: number): Promise<ReceivedMessage>;
  isOnline(): boolean;
  /** True once the connection went down without close() being called. */
  wasDropped(): boolean;
  /** Settles when the connection goes down without close() being called. */
  readonly dropped: Promise<DropInfo>;
  close(): Promise<void>;
}

export class XmppLoginError extends Error {
  override name = "XmppLoginError";
}

/** Logs in over real, verified TLS: the certificate must chain to `caPem` and name `domain`. */
export async function connectClient(options: ConnectClientOptions): Promise<XmppTestClient> {
  const { port, mode, domain, username, password, caPem, sni = true, timeoutMs = 15_000 } = options;
  const resource = options.resource ?? `test-${randomUUID().slice(0, 8)}`;
  const where = `${username}@${domain} on ${LOOPBACK}:${port} (${mode}${sni ? "" : ", no SNI"})`;

  const entity = createXmppClient({
    service: `xmpps://${LOOPBACK}:${port}`,
    domain,
    username,
    password,
    resource,
    timeout: DEFAULT_STEP_TIMEOUT_MS,
  }) as XmppEntity;
  // A test must see a drop, not have it healed behind its back.
  entity.reconnect.stop();

  let serverCertificateSerial = "";
  const socketBox: { current?: VerifiedTlsSocket } = {};
  useVerifiedTransport(entity, {
    target: { port, mode, domain, sni, caPem, verify: true, timeoutMs },
    onCreated: (socket) => (socketBox.current = socket),
    onSecure: (socket) => (serverCertificateSerial = socket.getPeerCertificate().serialNumber.toUpperCase()),
  });

  const errors: Error[] = [];
  entity.on("error", (error: Error) => errors.push(error));

  let closeRequested = false;
  let streamClosedByServer = false;
  let dropInfo: DropInfo | undefined;
  let resolveDropped!: (info: DropInfo) => void;
  const dropped = new Promise<DropInfo>((resolve) => (resolveDropped = resolve));
  entity.on("close", () => {
    if (!closeRequested) streamClosedByServer = true;
  });
  entity.on("disconnect", () => {
    if (closeRequested || dropInfo) return;
    const reason = errors.at(-1);
    dropInfo = { streamClosedByServer, ...(reason ? { reason: describeError(reason) } : {}) };
    resolveDropped(dropInfo);
  });

  const inbox = new MessageInbox();
  entity.on("stanza", (stanza: XmlElement) => {
    if (!stanza.is("message")) return;
    const body = stanza.getChildText("body");
    if (body === null) return;
    inbox.deliver({
      from: stanza.attrs.from ?? "",
      to: stanza.attrs.to ?? "",
      type: stanza.attrs.type ?? "normal",
      body,
    });
  });

  try {
    await withTimeout(entity.start(), timeoutMs, `login as ${where}`);
  } catch (error) {
    closeRequested = true;
    await Promise.race([entity.stop().catch(() => undefined), sleep(1_000)]);
    socketBox.current?.destroy();
    throw new XmppLoginError(`Login as ${where} failed: ${describeError(error)}`, { cause: error });
  }
  // Without initial presence the server does not route messages sent to the bare JID here.
  await entity.send(xml("presence"));

  async function close(): Promise<void> {
    if (closeRequested) return;
    closeRequested = true;
    if (entity.status !== "offline" && entity.status !== "disconnect") {
      await Promise.race([entity.stop().catch(() => undefined), sleep(3_000)]);
    }
    socketBox.current?.destroy();
  }

  return {
    jid: entity.jid?.toString() ?? `${username}@${domain}/${resource}`,
    serverCertificateSerial,
    async send(toJid, body) {
      await entity.send(xml("message", { to: toJid, type: "chat" }, xml("body", {}, body)));
    },
    waitForMessage: (match, waitMs = 10_000) => inbox.waitFor(match, waitMs, entity.jid?.toString() ?? where),
    isOnline: () => entity.status === "online",
    wasDropped: () => dropInfo !== undefined,
    dropped,
    close,
    [Symbol.asyncDispose]: close,
  };
}

class MessageInbox {
  private readonly unclaimed: ReceivedMessage[] = [];
  private readonly waiters = new Set<{ accepts: (message: ReceivedMessage) => boolean; resolve: (message: ReceivedMessage) => void }>();

  deliver(message: ReceivedMessage): void {
    for (const waiter of this.waiters) {
      if (waiter.accepts(message)) {
        this.waiters.delete(waiter);
        waiter.resolve(message);
        return;
      }
    }
    this.unclaimed.push(message);
  }

  waitFor(match: string | ((message: ReceivedMessage) => boolean), timeoutMs: number, recipient: string): Promise<ReceivedMessage> {
    const accepts = typeof match === "string" ? (message: ReceivedMessage) => sameBareJid(message.from, match) : match;
    const index = this.unclaimed.findIndex(accepts);
    if (index >= 0) return Promise.resolve(this.unclaimed.splice(index, 1)[0]!);

    const awaited = typeof match === "string" ? `a message from ${match}` : "a matching message";
    return new Promise((resolve, reject) => {
      const waiter = {
        accepts,
        resolve: (message: ReceivedMessage) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const others = this.unclaimed.map((m) => `${m.from}: ${JSON.stringify(m.body)}`).join("; ") || "none";
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${awaited} to ${recipient}; other messages received: ${others}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}

function sameBareJid(a: string, b: string): boolean {
  const bare = (jid: string) => jid.split("/")[0]!.toLowerCase();
  return b.includes("/") ? a.toLowerCase() === b.toLowerCase() : bare(a) === bare(b);
}

// The parts of @xmpp/client 0.14 this file relies on.
interface XmlElement {
  name: string;
  attrs: Record<string, string | undefined>;
  is(name: string, xmlns?: string): boolean;
  getChildText(name: string, xmlns?: string): string | null;
}

interface XmppEntity extends EventEmitter {
  status: string;
  jid: { toString(): string } | null;
  transports: TransportClass[];
  reconnect: { stop(): void };
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(element: XmlElement): Promise<void>;
}

type TransportClass = (new (...args: never[]) => object) & {
  prototype: { socketParameters(service: string): unknown };
};

/**
 * @xmpp/client opens TLS itself with `tls.connect` and no way to pass a CA, a server name for
 * an IP address, or an identity to check. Instead of patching `tls.connect` for the whole
 * process, this client gets a transport of its own: the socket below does TCP, the STARTTLS
 * exchange if any, and a verified handshake, then hands @xmpp/client a secure stream on which
 * it opens a fresh XML stream, exactly as after its own STARTTLS.
 */
function useVerifiedTransport(
  entity: XmppEntity,
  hooks: { target: TlsTarget; onCreated(socket: VerifiedTlsSocket): void; onSecure(socket: tls.TLSSocket): void },
): void {
  const DirectTlsTransport = entity.transports.find((Transport) => {
    try {
      return Transport.prototype.socketParameters(`xmpps://${LOOPBACK}:1`) !== undefined;
    } catch {
      return false;
    }
  });
  if (!DirectTlsTransport) throw new Error("@xmpp/client has no direct TLS transport (its internals changed?)");

  class VerifiedTransport extends DirectTlsTransport {
    socketParameters(): TlsTarget {
      return hooks.target;
    }
  }
  class Socket extends VerifiedTlsSocket {
    constructor() {
      super(hooks.onSecure);
      hooks.onCreated(this);
    }
  }
  Object.assign(VerifiedTransport.prototype, { Socket });
  entity.transports.unshift(VerifiedTransport);
}

/** The socket interface @xmpp/connection expects: connect/write/end plus connect/data/close/error. */
class VerifiedTlsSocket extends EventEmitter {
  readonly secure = true;
  private socket: tls.TLSSocket | undefined;

  constructor(private readonly onSecure: (socket: tls.TLSSocket) => void) {
    super();
  }

  connect(target: TlsTarget): void {
    openTlsStream(target).then(
      (socket) => {
        this.socket = socket;
        socket.on("data", (data: Buffer) => this.emit("data", data));
        socket.on("error", (error: Error) => this.emit("error", error));
        socket.on("close", (hadError: boolean) => this.emit("close", hadError));
        this.onSecure(socket);
        this.emit("connect");
      },
      (error: unknown) => this.emit("error", error),
    );
  }

  write(data: string, callback: (error?: Error | null) => void): void {
    if (!this.socket) return callback(new Error("TLS stream not open"));
    this.socket.write(data, callback);
  }

  end(): void {
    this.socket?.end();
  }

  destroy(): void {
    this.socket?.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Raw probes: what the server serves and offers, with Node's tls and hand-written XMPP
// ---------------------------------------------------------------------------------------------

export type ProbeMode = "direct-tls" | "starttls" | "s2s-starttls";

export interface ServedCertificateOptions {
  port: number;
  mode: ProbeMode;
  domain: string;
  /** Send `domain` as TLS server name. */
  sni: boolean;
  /** Trust anchor for `authorized`; without it only the system roots count. */
  caPem?: string;
  timeoutMs?: number;
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
}

/** Handshakes without rejecting anything (so a bad certificate can be inspected) and reports. */
export async function servedCertificate(options: ServedCertificateOptions): Promise<ServedCertificate> {
  const { port, mode, domain, sni, caPem, timeoutMs = DEFAULT_STEP_TIMEOUT_MS } = options;
  const socket = await openTlsStream({ port, mode, domain, sni, caPem, verify: false, timeoutMs });
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

export interface StreamProbeOptions {
  port: number;
  domain: string;
  /** Which stream to open. Default "c2s". */
  stream?: "c2s" | "s2s";
  timeoutMs?: number;
}

/**
 * Whether the server's first (plaintext) stream features advertise STARTTLS. A stream error
 * instead of features counts as "not offered": Prosody answers that way when it has no usable
 * TLS context and encryption is required ("No stream features to proceed with").
 */
export async function starttlsOffered(options: StreamProbeOptions): Promise<boolean> {
  const { port, domain, stream = "c2s", timeoutMs = DEFAULT_STEP_TIMEOUT_MS } = options;
  const wire = new PlainXmppWire(await connectTcp(port, timeoutMs), `${LOOPBACK}:${port}`);
  try {
    const features = await wire.openStream(domain, namespaceOf(stream), timeoutMs, { acceptStreamError: true });
    return /<starttls\b/.test(features);
  } finally {
    wire.destroy();
  }
}

export interface PlaintextAuthOptions {
  port: number;
  domain: string;
  username: string;
  password: string;
  timeoutMs?: number;
}

export interface PlaintextAuthOutcome {
  /** SASL mechanisms offered before TLS (should be none when encryption is required). */
  mechanismsOffered: string[];
  starttlsRequired: boolean;
  /** What the server did with the cleartext `<auth mechanism='PLAIN'>`. */
  result: "success" | "failure" | "stream-error" | "closed" | "no-reply";
  /** e.g. "encryption-required", "not-authorized", "policy-violation". */
  condition?: string;
  /** The server's reply as received. */
  reply: string;
}

/** Sends SASL PLAIN in cleartext on a c2s port, so a test can assert that it is refused. */
export async function plaintextAuthAttempt(options: PlaintextAuthOptions): Promise<PlaintextAuthOutcome> {
  const { port, domain, username, password, timeoutMs = DEFAULT_STEP_TIMEOUT_MS } = options;
  const wire = new PlainXmppWire(await connectTcp(port, timeoutMs), `${LOOPBACK}:${port}`);
  try {
    const features = await wire.openStream(domain, "jabber:client", timeoutMs);
    const mechanismsOffered = [...features.matchAll(/<mechanism>([^<]*)<\/mechanism>/g)].map((m) => m[1]!);
    const starttlsRequired = /<starttls\b[^>]*>\s*<required\s*\/>/.test(features);
    const credentials = Buffer.from(`\0${username}\0${password}`).toString("base64");
    wire.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${credentials}</auth>`);

    let reply: string;
    try {
      reply = await wire.expect(SASL_OUTCOME, "a SASL outcome or stream error", timeoutMs, { acceptStreamError: true });
    } catch (error) {
      const result = wire.isClosed() ? "closed" : "no-reply";
      return { mechanismsOffered, starttlsRequired, result, reply: wire.unread() || describeError(error) };
    }
    const result = reply.startsWith("<success") ? "success" : reply.startsWith("<failure") ? "failure" : "stream-error";
    const condition = firstChildName(reply);
    return { mechanismsOffered, starttlsRequired, result, ...(condition ? { condition } : {}), reply };
  } finally {
    wire.destroy();
  }
}

const SASL_OUTCOME =
  /<success\b[^>]*(?:\/>|>[\s\S]*?<\/success>)|<failure\b[^>]*(?:\/>|>[\s\S]*?<\/failure>)|<stream:error\b[\s\S]*?<\/stream:error>/;
const FEATURES = /<stream:features\b[^>]*(?:\/>|>[\s\S]*?<\/stream:features>)/;
const STREAM_ERROR = /<stream:error\b[\s\S]*?<\/stream:error>/;
const FEATURES_OR_STREAM_ERROR = new RegExp(`${FEATURES.source}|${STREAM_ERROR.source}`);

function firstChildName(element: string): string | undefined {
  const children = [...element.matchAll(/<([a-zA-Z][\w-]*)\b/g)].map((m) => m[1]!).slice(1);
  return children.find((name) => name !== "text");
}

// ---------------------------------------------------------------------------------------------
// TCP, STARTTLS and TLS plumbing shared by the client and the probes
// ---------------------------------------------------------------------------------------------

interface TlsTarget {
  port: number;
  mode: ProbeMode;
  domain: string;
  sni: boolean;
  caPem: string | undefined;
  /** false: complete the handshake whatever is served, and report instead. */
  verify: boolean;
  timeoutMs: number;
}

async function openTlsStream(target: TlsTarget): Promise<tls.TLSSocket> {
  const { port, mode, domain, sni, caPem, verify, timeoutMs } = target;
  const tlsOptions: tls.ConnectionOptions = {
    ...(sni ? { servername: domain } : {}),
    ...(caPem ? { ca: caPem } : {}),
    rejectUnauthorized: verify,
    // Connecting to an IP address: the identity to check is the XMPP domain, not the host.
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(domain, cert),
  };
  const where = `${LOOPBACK}:${port} (${mode}${sni ? `, SNI ${domain}` : ", no SNI"})`;

  if (mode === "direct-tls") {
    const socket = tls.connect({ host: LOOPBACK, port, ALPNProtocols: ["xmpp-client"], ...tlsOptions });
    return tlsHandshake(socket, where, timeoutMs);
  }
  const plain = await connectTcp(port, timeoutMs);
  const wire = new PlainXmppWire(plain, where);
  try {
    const features = await wire.openStream(domain, namespaceOf(mode === "s2s-starttls" ? "s2s" : "c2s"), timeoutMs);
    if (!/<starttls\b/.test(features)) throw new Error(`${where} did not offer STARTTLS; features: ${features}`);
    wire.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    const answer = await wire.expect(/<proceed\b[^>]*\/>|<failure\b[^>]*(?:\/>|>[\s\S]*?<\/failure>)/, "<proceed/>", timeoutMs);
    if (!answer.startsWith("<proceed")) throw new Error(`${where} refused STARTTLS: ${answer}`);
  } catch (error) {
    wire.destroy();
    throw error;
  }
  wire.release();
  return tlsHandshake(tls.connect({ socket: plain, ...tlsOptions }), where, timeoutMs);
}

function tlsHandshake(socket: tls.TLSSocket, where: string, timeoutMs: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      const code = (error as NodeJS.ErrnoException).code;
      reject(new Error(`TLS handshake with ${where} failed: ${error.message}${code ? ` (${code})` : ""}`, { cause: error }));
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

function connectTcp(port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: LOOPBACK, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP connect to ${LOOPBACK}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    });
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`TCP connect to ${LOOPBACK}:${port} failed: ${error.message}`, { cause: error }));
    };
    socket.once("error", onError);
  });
}

function namespaceOf(stream: "c2s" | "s2s"): string {
  return stream === "s2s" ? "jabber:server" : "jabber:client";
}

/** Hand-driven XML stream on a plain TCP socket: enough for stream headers, features, STARTTLS and SASL. */
class PlainXmppWire {
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
    private readonly socket: net.Socket,
    private readonly where: string,
  ) {
    socket.on("data", this.onData);
    socket.on("close", this.onEnd);
    socket.on("error", this.onEnd);
  }

  /**
   * Sends a stream header to `domain` and returns the first <stream:features/> (or, with
   * `acceptStreamError`, the <stream:error/> sent instead).
   */
  openStream(domain: string, namespace: string, timeoutMs: number, { acceptStreamError = false } = {}): Promise<string> {
    this.send(
      `<?xml version='1.0'?><stream:stream xmlns='${namespace}' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`,
    );
    if (!acceptStreamError) return this.expect(FEATURES, "<stream:features/>", timeoutMs);
    return this.expect(FEATURES_OR_STREAM_ERROR, "<stream:features/>", timeoutMs, { acceptStreamError });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Waits for `pattern`, consumes the input up to the end of the match and returns the match. */
  async expect(pattern: RegExp, what: string, timeoutMs: number, { acceptStreamError = false } = {}): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const match = pattern.exec(this.received);
      if (match) {
        this.received = this.received.slice(match.index + match[0].length);
        return match[0];
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

  unread(): string {
    return this.received;
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** Stops listening so TLS can take the socket over. */
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

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const condition = (error as { condition?: string }).condition;
  const label = error.name && error.name !== "Error" ? `${error.name}: ` : "";
  const detail = condition && !error.message.includes(condition) ? ` [${condition}]` : "";
  return `${label}${error.message}${code && !error.message.includes(code) ? ` (${code})` : ""}${detail}`;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not complete within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function oneLine(distinguishedName: string): string {
  return distinguishedName.split("\n").join(", ");
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}
