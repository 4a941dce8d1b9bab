import net from "node:net";
import tls from "node:tls";

/**
 * A bare-bones XMPP client session for throughput: verified STARTTLS, SASL PLAIN, bind, initial
 * presence, then raw stanza writes and a count of received messages. No stream management:
 * @xmpp/client 0.14 sometimes acknowledges a lower count than before under load (its acks are
 * written asynchronously), and Prosody closes such a session.
 */
export interface RawXmppSession {
  readonly jid: string;
  send(stanza: string): void;
  /** Called with how many complete <message/> elements arrived in one read. */
  onMessages(listener: (count: number) => void): void;
  isOpen(): boolean;
  close(): void;
}

export interface RawSessionOptions {
  port: number;
  domain: string;
  username: string;
  password: string;
  /** Trust anchor; the server's chain must verify against it and name `domain`. */
  caPem: string;
  timeoutMs?: number;
}

const LOOPBACK = "127.0.0.1";
const MESSAGE_END = "</message>";

export async function openRawSession(options: RawSessionOptions): Promise<RawXmppSession> {
  const { port, domain, username, password, caPem, timeoutMs = 30_000 } = options;
  const deadline = Date.now() + timeoutMs;
  const plain = await new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host: LOOPBACK, port }, () => resolve(socket));
    socket.once("error", reject);
  });
  const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;

  let wire = new Reader(plain);
  try {
    plain.write(header);
    await wire.expect(/<\/stream:features>/, deadline);
    plain.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await wire.expect(/<proceed\b/, deadline);
    wire.release();
    const secure = tls.connect({
      socket: plain,
      servername: domain,
      ca: caPem,
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(domain, cert),
    });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", resolve);
      secure.once("error", reject);
    });
    wire = new Reader(secure);
    secure.write(header);
    await wire.expect(/<\/stream:features>/, deadline);
    const credentials = Buffer.from(`\0${username}\0${password}`).toString("base64");
    secure.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${credentials}</auth>`);
    await wire.expect(/<success\b/, deadline);
    secure.write(header);
    await wire.expect(/<\/stream:features>/, deadline);
    secure.write("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench</resource></bind></iq>");
    const bound = await wire.expect(/<jid>([^<]+)<\/jid>/, deadline);
    secure.write("<presence/>");
    wire.release();
    return new CountingSession(secure, bound[1]!);
  } catch (error) {
    wire.release();
    plain.destroy();
    throw new Error(`login as ${username}@${domain} on ${LOOPBACK}:${port} failed: ${(error as Error).message}`, { cause: error });
  }
}

class CountingSession implements RawXmppSession {
  private listener: (count: number) => void = () => undefined;
  private tail = "";
  private open = true;

  constructor(
    private readonly socket: tls.TLSSocket,
    readonly jid: string,
  ) {
    socket.on("data", (data: Buffer) => {
      const text = this.tail + data.toString("utf8");
      let count = 0;
      for (let at = text.indexOf(MESSAGE_END); at >= 0; at = text.indexOf(MESSAGE_END, at + MESSAGE_END.length)) count++;
      this.tail = text.slice(-(MESSAGE_END.length - 1));
      if (count > 0) this.listener(count);
    });
    socket.on("close", () => (this.open = false));
    socket.on("error", () => (this.open = false));
  }

  send(stanza: string): void {
    if (this.open) this.socket.write(stanza);
  }

  onMessages(listener: (count: number) => void): void {
    this.listener = listener;
  }

  isOpen(): boolean {
    return this.open;
  }

  close(): void {
    if (this.open) this.socket.end("</stream:stream>");
    this.open = false;
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }
}

/** Accumulates what the server sends until a pattern appears (handshake phases only). */
class Reader {
  private received = "";
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly onData = (data: Buffer) => {
    this.received += data.toString("utf8");
    this.wake?.();
  };
  private readonly onEnd = (error?: Error) => {
    this.failure = error ?? new Error("connection closed");
    this.wake?.();
  };

  constructor(private readonly socket: net.Socket | tls.TLSSocket) {
    socket.on("data", this.onData);
    socket.on("close", this.onEnd);
    socket.on("error", this.onEnd);
  }

  async expect(pattern: RegExp, deadline: number): Promise<RegExpExecArray> {
    while (true) {
      const match = pattern.exec(this.received);
      if (match) {
        this.received = this.received.slice(match.index + match[0].length);
        return match;
      }
      if (/<failure\b|<stream:error\b/.test(this.received)) throw new Error(`server refused: ${this.received}`);
      if (this.failure) throw new Error(`${this.failure.message}; received: ${this.received || "nothing"}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${pattern}; received: ${this.received || "nothing"}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  release(): void {
    this.socket.off("data", this.onData);
    this.socket.off("close", this.onEnd);
    this.socket.off("error", this.onEnd);
  }
}
