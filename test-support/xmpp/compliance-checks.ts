import { randomUUID } from "node:crypto";
import { xml, type XmlElement, type XmppTestClient } from "./connect-client.js";
import { servedCertificate } from "./served-certificate.js";
import { discoInfo, discoServices, type DiscoInfo } from "./disco.js";
import { joinRoom, NS_MUC } from "./muc.js";

/**
 * The 21 scored checks of the Conversations Compliance Tester (iNPUTmice/caas), re-implemented
 * from what each looks for: the names are the tester's, the evidence is what the server said.
 */
export const COMPLIANCE_CHECKS = [
  "XEP-0115: Entity Capabilities",
  "XEP-0237: Roster Versioning",
  "XEP-0198: Stream Management",
  "XEP-0352: Client State Indication",
  "XEP-0191: Blocking Command",
  "XEP-0280: Message Carbons",
  "XEP-0160: Best Practices for Handling Offline Messages",
  "XEP-0313: Message Archive Management",
  "XEP-0357: Push Notifications",
  "XEP-0398: User Avatar to vCard-Based Avatars Conversion",
  "XEP-0411: Bookmarks Conversion",
  "XEP-0163: Personal Eventing Protocol",
  "XEP-0223: Persistent Storage of Private Data via PubSub",
  "XEP-0045: Multi-User Chat",
  "XEP-0065: SOCKS5 Bytestreams (Proxy)",
  "XEP-0363: HTTP File Upload",
  "XEP-0313: Message Archive Management (MUC)",
  "XEP-0153: vCard-Based Avatars (MUC)",
  "XEP-0215: External Service Discovery (STUN)",
  "XEP-0215: External Service Discovery (TURN with credentials)",
  "XEP-0368: SRV records for XMPP over TLS (direct TLS, ALPN xmpp-client)",
] as const;

export type ComplianceCheckName = (typeof COMPLIANCE_CHECKS)[number];

export interface ComplianceResult {
  name: ComplianceCheckName;
  passed: boolean;
  /** What the server answered, for a failure message a person can act on. */
  evidence: string;
}

export interface ComplianceTarget {
  /** A logged-in account on `domain` (over TCP, so its stream features are the c2s ones). */
  client: XmppTestClient;
  domain: string;
  /** Host port of 5223 and the trust anchor the certificate must chain to. */
  directTls: { port: number; caPem: string };
}

const EMPTY_INFO: DiscoInfo = { identities: [], features: [], forms: new Map() };

export async function runComplianceChecks({ client, domain, directTls }: ComplianceTarget): Promise<ComplianceResult[]> {
  const features = client.streamFeatures.at(-1);
  const featureChild = (name: string, ns: string) => Boolean(features?.getChild(name, ns));
  const featuresEvidence = `stream features: ${features?.toString() ?? "none"}`;

  const server = await discoInfo(client, domain);
  const account = await discoInfo(client);
  const services = await discoServices(client, domain);
  const serviceWith = (feature: string) => [...services].find(([, info]) => info.features.includes(feature));
  const servicesEvidence = `services: ${[...services].map(([jid, info]) => `${jid} [${info.features.join(" ")}]`).join("; ") || "none"}`;

  const muc = serviceWith(NS_MUC);
  let room = EMPTY_INFO;
  let roomEvidence = "no MUC service to create a room on";
  if (muc) {
    const roomJid = `compliance-${randomUUID().slice(0, 8)}@${muc[0]}`;
    await joinRoom(client, roomJid, "tester");
    room = await discoInfo(client, roomJid);
    roomEvidence = `fresh room ${roomJid}: ${room.features.join(" ")}`;
  }

  const external = await externalServices(client, domain);
  const stun = external.services.filter((service) => service.attrs.type === "stun");
  const turn = external.services.filter((service) => service.attrs.type === "turn" && service.attrs.username && service.attrs.password);

  const tls = await servedCertificate({ port: directTls.port, mode: "direct-tls", domain, sni: true, caPem: directTls.caPem });
  const hasFeature = (info: DiscoInfo, feature: string) => info.features.includes(feature);
  const serverEvidence = `server disco#info: ${server.features.join(" ")}`;
  const accountEvidence = `account disco#info: ${account.features.join(" ")}; identities ${account.identities.map((i) => `${i.category}/${i.type}`).join(" ")}`;

  const checks: Record<ComplianceCheckName, [boolean, string]> = {
    "XEP-0115: Entity Capabilities": [featureChild("c", "http://jabber.org/protocol/caps"), featuresEvidence],
    "XEP-0237: Roster Versioning": [featureChild("ver", "urn:xmpp:features:rosterver"), featuresEvidence],
    "XEP-0198: Stream Management": [featureChild("sm", "urn:xmpp:sm:3"), featuresEvidence],
    "XEP-0352: Client State Indication": [featureChild("csi", "urn:xmpp:csi:0"), featuresEvidence],
    "XEP-0191: Blocking Command": [hasFeature(server, "urn:xmpp:blocking"), serverEvidence],
    "XEP-0280: Message Carbons": [hasFeature(server, "urn:xmpp:carbons:2"), serverEvidence],
    "XEP-0160: Best Practices for Handling Offline Messages": [hasFeature(server, "msgoffline"), serverEvidence],
    "XEP-0313: Message Archive Management": [hasFeature(account, "urn:xmpp:mam:2"), accountEvidence],
    "XEP-0357: Push Notifications": [hasFeature(account, "urn:xmpp:push:0"), accountEvidence],
    "XEP-0398: User Avatar to vCard-Based Avatars Conversion": [hasFeature(account, "urn:xmpp:pep-vcard-conversion:0"), accountEvidence],
    "XEP-0411: Bookmarks Conversion": [hasFeature(account, "urn:xmpp:bookmarks-conversion:0"), accountEvidence],
    "XEP-0163: Personal Eventing Protocol": [account.identities.some((i) => i.category === "pubsub" && i.type === "pep"), accountEvidence],
    "XEP-0223: Persistent Storage of Private Data via PubSub": [hasFeature(account, "http://jabber.org/protocol/pubsub#publish-options"), accountEvidence],
    "XEP-0045: Multi-User Chat": [muc !== undefined, servicesEvidence],
    "XEP-0065: SOCKS5 Bytestreams (Proxy)": [
      [...services.values()].some((info) => hasFeature(info, "http://jabber.org/protocol/bytestreams") && info.identities.some((i) => i.category === "proxy" && i.type === "bytestreams")),
      servicesEvidence,
    ],
    "XEP-0363: HTTP File Upload": [serviceWith("urn:xmpp:http:upload:0") !== undefined, servicesEvidence],
    "XEP-0313: Message Archive Management (MUC)": [hasFeature(room, "urn:xmpp:mam:2"), roomEvidence],
    "XEP-0153: vCard-Based Avatars (MUC)": [hasFeature(room, "vcard-temp"), roomEvidence],
    "XEP-0215: External Service Discovery (STUN)": [stun.length > 0, external.evidence],
    "XEP-0215: External Service Discovery (TURN with credentials)": [turn.length > 0, external.evidence],
    // The client offers ALPN xmpp-client, as the tester does; a server may leave ALPN unanswered
    // (RFC 7301 3.2: Prosody 13.0 does on c2s), but must not pick another protocol.
    "XEP-0368: SRV records for XMPP over TLS (direct TLS, ALPN xmpp-client)": [
      tls.authorized && (tls.alpnProtocol === null || tls.alpnProtocol === "xmpp-client"),
      `port 5223, ALPN xmpp-client offered: certificate ${tls.authorized ? "verified" : `not verified (${tls.authorizationError})`}, ALPN chosen: ${tls.alpnProtocol ?? "none"}`,
    ],
  };
  return COMPLIANCE_CHECKS.map((name) => ({ name, passed: checks[name][0], evidence: checks[name][1] }));
}

/** XEP-0215: the <service/> elements the server lists, or none with the error it answered. */
async function externalServices(client: XmppTestClient, domain: string): Promise<{ services: XmlElement[]; evidence: string }> {
  try {
    const result = await client.iq(xml("iq", { type: "get", to: domain }, xml("services", { xmlns: "urn:xmpp:extdisco:2" })));
    const services = result.getChild("services", "urn:xmpp:extdisco:2")?.getChildren("service") ?? [];
    return { services, evidence: `extdisco: ${result.toString()}` };
  } catch (error) {
    return { services: [], evidence: `extdisco: ${(error as Error).message}` };
  }
}
