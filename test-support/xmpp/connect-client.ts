import { randomUUID } from "node:crypto";
import type tls from "node:tls";

// @ts-ignore -- @xmpp/client ships no type declarations; the shapes used are typed in verified-transport.ts.
import { client as createXmppClient, xml } from "@xmpp/client";

import { sleep, waitFor } from "../wait-for.js";
import { describeError } from "./describe-error.js";
import { DEFAULT_STEP_TIMEOUT_MS, LOOPBACK } from "./loopback.js";
import { Inbox, MessageInbox, type ReceivedMessage } from "./message-inbox.js";
import { useVerifiedTransport, type XmlElement, type XmppEntity } from "./verified-transport.js";
import { useVerifiedWebSocket } from "./verified-websocket.js";

export type { ReceivedMessage } from "./message-inbox.js";
export type { XmlElement } from "./verified-transport.js";
export { xml };

const ROSTER_NS = "jabber:iq:roster";
const MAM_NS = "urn:xmpp:mam:2";

/** "websocket": RFC 7395 over `wss://<domain>:<port>/xmpp-websocket`, the name resolved to 127.0.0.1. */
export type ClientTlsMode = "starttls" | "direct-tls" | "websocket";

export interface ConnectClientOptions {
  /** Host port published on 127.0.0.1 (for websocket: the one of 5281). */
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
  /** The stream features the server offered, in order: the last is the authenticated stream's. */
  readonly streamFeatures: XmlElement[];
  send(toJid: string, body: string): Promise<void>;
  /** Adds or renames a contact on this account's roster (RFC 6121 roster set). */
  setRosterItem(jid: string, name: string): Promise<void>;
  /** This account's roster, as the server returns it: bare JID -> name. */
  roster(): Promise<Map<string, string>>;
  /** Bodies of the messages the server's archive (XEP-0313) holds for this account, oldest first. */
  archivedBodies(): Promise<string[]>;
  sendStanza(stanza: XmlElement): Promise<void>;
  /** Sends an `<iq/>` and resolves with the server's result; an error reply rejects, naming its condition (the StanzaError is the cause). */
  iq(request: XmlElement, timeoutMs?: number): Promise<XmlElement>;
  /** Resolves with the first message or presence (received since login, not yet consumed) that `accepts`. */
  waitForStanza(what: string, accepts: (stanza: XmlElement) => boolean, timeoutMs?: number): Promise<XmlElement>;
  /** Removes and returns every message or presence received so far (not yet consumed) that `accepts`. */
  takeStanzas(accepts: (stanza: XmlElement) => boolean): XmlElement[];
  /**
   * Answers `<iq type=type><name xmlns=xmlns/></iq>` requests with what `handler` returns (an
   * element for the result, `true` for an empty result); unanswered ones get service-unavailable.
   */
  handleIq(type: "get" | "set", xmlns: string, name: string, handler: (request: XmlElement) => Promise<XmlElement | true>): void;
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
    service: mode === "websocket" ? `wss://${domain}:${port}/xmpp-websocket` : `xmpps://${LOOPBACK}:${port}`,
    domain,
    username,
    password,
    resource,
    timeout: DEFAULT_STEP_TIMEOUT_MS,
  }) as XmppEntity;
  // A test must see a drop, not have it healed behind its back.
  entity.reconnect.stop();

  let serverCertificateSerial = "";
  const socketBox: { current?: { destroy(): void } } = {};
  const hooks = {
    onCreated: (socket: { destroy(): void }) => (socketBox.current = socket),
    onSecure: (socket: tls.TLSSocket) => (serverCertificateSerial = socket.getPeerCertificate().serialNumber.toUpperCase()),
  };
  if (mode === "websocket") useVerifiedWebSocket(entity, { caPem, ...hooks });
  else useVerifiedTransport(entity, { target: { port, mode, domain, sni, caPem, verify: true, timeoutMs }, ...hooks });
  const streamFeatures: XmlElement[] = [];
  entity.on("element", (element: XmlElement) => {
    if (element.is("features", "http://etherx.jabber.org/streams")) streamFeatures.push(element);
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
  const archiveResults = new Map<string, string[]>();
  const stanzas = new Inbox<XmlElement>("stanzas", (stanza) => stanza.toString().slice(0, 300));
  entity.on("stanza", (stanza: XmlElement) => {
    if (!stanza.is("iq")) stanzas.deliver(stanza);
    if (!stanza.is("message")) return;
    const result = stanza.getChild("result", MAM_NS);
    if (result) {
      const body = result.getChild("forwarded", "urn:xmpp:forward:0")?.getChild("message")?.getChildText("body");
      if (body !== null && body !== undefined) archiveResults.get(result.attrs.queryid ?? "")?.push(body);
      return;
    }
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
  // @xmpp/client 0.14 is online before stream management's <enabled/> is handled, and handling
  // it zeroes the inbound count: a stanza received in between is then acknowledged again as
  // h='0', and Prosody closes the stream ("Client acknowledged less stanzas than already
  // acknowledged"). Seen under load. Send nothing until it is enabled.
  if (streamFeatures.at(-1)?.getChild("sm", "urn:xmpp:sm:3")) {
    await waitFor(`stream management (XEP-0198) to be enabled for ${where}`, () => entity.streamManagement.enabled, { timeoutMs, intervalMs: 10 });
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
    streamFeatures,
    async send(toJid, body) {
      await entity.send(xml("message", { to: toJid, type: "chat" }, xml("body", {}, body)));
    },
    async setRosterItem(jid, name) {
      await entity.iqCaller.request(xml("iq", { type: "set" }, xml("query", { xmlns: ROSTER_NS }, xml("item", { jid, name }))), timeoutMs);
    },
    async roster() {
      const reply = await entity.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: ROSTER_NS })), timeoutMs);
      const items = reply.getChild("query", ROSTER_NS)?.getChildren("item") ?? [];
      return new Map(items.map((item) => [item.attrs.jid ?? "", item.attrs.name ?? ""]));
    },
    async archivedBodies() {
      const queryid = randomUUID();
      const bodies: string[] = [];
      archiveResults.set(queryid, bodies);
      try {
        // The server sends every result message before the <fin/> reply.
        await entity.iqCaller.request(xml("iq", { type: "set" }, xml("query", { xmlns: MAM_NS, queryid })), timeoutMs);
        return bodies;
      } finally {
        archiveResults.delete(queryid);
      }
    },
    sendStanza: (stanza) => entity.send(stanza),
    async iq(request, waitMs = 10_000) {
      try {
        return await entity.iqCaller.request(request, waitMs);
      } catch (error) {
        throw new Error(`${where}: ${request.attrs.type} <iq/> to ${request.attrs.to ?? "the account"} failed: ${describeError(error)}`, { cause: error });
      }
    },
    waitForStanza: (what, accepts, waitMs = 10_000) => stanzas.waitFor(what, accepts, waitMs, entity.jid?.toString() ?? where),
    takeStanzas: (accepts) => stanzas.take(accepts),
    handleIq: (type, xmlns, name, handler) => entity.iqCallee[type](xmlns, name, (context) => handler(context.stanza)),
    waitForMessage: (match, waitMs = 10_000) => inbox.waitForMessage(match, waitMs, entity.jid?.toString() ?? where),
    isOnline: () => entity.status === "online",
    wasDropped: () => dropInfo !== undefined,
    dropped,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not complete within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
