import { xml, type XmlElement, type XmppTestClient } from "./connect-client.js";

export const NS_MUC = "http://jabber.org/protocol/muc";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";
const NS_MAM = "urn:xmpp:mam:2";

export interface Joined {
  /** Status codes of the self-presence (201: the room was created by this join). */
  statusCodes: string[];
}

/**
 * Joins `room` as `nick` (XEP-0045 7.2) and waits for the self-presence. `maxHistory` asks for
 * that many discussion-history messages (0: none). A room this join creates is unlocked as an
 * instant room, so others can join it.
 */
export async function joinRoom(client: XmppTestClient, room: string, nick: string, { maxHistory }: { maxHistory?: number } = {}): Promise<Joined> {
  const occupant = `${room}/${nick}`;
  const history = maxHistory === undefined ? [] : [xml("history", { maxstanzas: String(maxHistory) })];
  await client.sendStanza(xml("presence", { to: occupant }, xml("x", { xmlns: NS_MUC }, ...history)));
  const self = await client.waitForStanza(`the self-presence of ${occupant}`, (stanza) => {
    if (!stanza.is("presence") || stanza.attrs.from !== occupant) return false;
    if (stanza.attrs.type === "error") return true;
    return (stanza.getChild("x", NS_MUC_USER)?.getChildren("status") ?? []).some((status) => status.attrs.code === "110");
  });
  if (self.attrs.type === "error") throw new Error(`joining ${occupant} failed: ${self.toString()}`);
  const statusCodes = self.getChild("x", NS_MUC_USER)!.getChildren("status").map((status) => status.attrs.code ?? "");
  if (statusCodes.includes("201")) {
    // XEP-0045 10.1.2: accept the default configuration ("instant room").
    await client.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_OWNER }, xml("x", { xmlns: "jabber:x:data", type: "submit" }))));
  }
  return { statusCodes };
}

export async function sendGroupMessage(client: XmppTestClient, room: string, body: string): Promise<void> {
  await client.sendStanza(xml("message", { to: room, type: "groupchat" }, xml("body", {}, body)));
}

/** Waits for the room's echo of a groupchat message with `body` (the room received and relayed it). */
export function waitForGroupMessage(client: XmppTestClient, room: string, body: string): Promise<XmlElement> {
  return client.waitForStanza(`a groupchat message ${JSON.stringify(body)} from ${room}`, (stanza) =>
    stanza.is("message") && stanza.attrs.type === "groupchat" && (stanza.attrs.from ?? "").startsWith(`${room}/`) && stanza.getChildText("body") === body,
  );
}

export interface ArchivedMessage {
  /** The occupant JID (room/nick) it was sent from. */
  from: string;
  body: string;
}

/** A XEP-0313 query to `archive` (a room, or the account when omitted): every archived message with a body, oldest first. */
export async function queryArchive(client: XmppTestClient, archive?: string): Promise<{ messages: ArchivedMessage[]; complete: boolean }> {
  const queryid = `q-${Math.random().toString(36).slice(2)}`;
  const result = await client.iq(xml("iq", { type: "set", ...(archive ? { to: archive } : {}) }, xml("query", { xmlns: NS_MAM, queryid })));
  // The server sends the results before the <iq/> that ends the query.
  const results = client.takeStanzas((stanza) => stanza.is("message") && stanza.getChild("result", NS_MAM)?.attrs.queryid === queryid);
  const messages = results.flatMap((stanza) => {
    const forwarded = stanza.getChild("result", NS_MAM)!.getChild("forwarded", "urn:xmpp:forward:0")?.getChild("message");
    const body = forwarded?.getChildText("body");
    return forwarded && body !== null && body !== undefined ? [{ from: forwarded.attrs.from ?? "", body }] : [];
  });
  return { messages, complete: result.getChild("fin", NS_MAM)?.attrs.complete === "true" };
}
