import type tls from "node:tls";

import { openSecureStream, XmppWire } from "../entrypoint/xmpp-wire.js";
import { LOOPBACK } from "../test-support/xmpp/loopback.js";

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

const MESSAGE_END = "</message>";

export async function openRawSession(options: RawSessionOptions): Promise<RawXmppSession> {
  const { port, domain, username, password, caPem, timeoutMs = 30_000 } = options;
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(deadline - Date.now(), 1);
  let wire: XmppWire | undefined;
  try {
    const secure = await openSecureStream({ host: LOOPBACK, port, mode: "starttls", domain, sni: true, caPem, verify: true, timeoutMs });
    wire = new XmppWire(secure, `${LOOPBACK}:${port} (STARTTLS, SNI ${domain})`);
    await wire.openStream(domain, "c2s", left());
    const credentials = Buffer.from(`\0${username}\0${password}`).toString("base64");
    wire.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${credentials}</auth>`);
    const outcome = await wire.expect(SASL_OUTCOME, "the outcome of SASL PLAIN", left());
    if (!outcome.startsWith("<success")) throw new Error(`${wire.where} refused SASL PLAIN: ${outcome}`);
    await wire.openStream(domain, "c2s", left());
    wire.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench</resource></bind></iq>");
    const bound = await wire.expectMatch(/<jid>([^<]+)<\/jid>/, "the bound JID", left());
    wire.send("<presence/>");
    wire.release();
    return new CountingSession(secure, bound[1]!);
  } catch (error) {
    wire?.destroy();
    throw new Error(`login as ${username}@${domain} on ${LOOPBACK}:${port} failed: ${(error as Error).message}`, { cause: error });
  }
}

const SASL_OUTCOME = /<success\b[^>]*(?:\/>|>[\s\S]*?<\/success>)|<failure\b[\s\S]*?<\/failure>/;

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
