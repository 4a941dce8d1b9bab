import { xml, type XmlElement, type XmppTestClient } from "./connect-client.js";

export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";

export interface DiscoInfo {
  identities: Array<{ category: string; type: string; name?: string }>;
  features: string[];
  /** XEP-0128 extended info forms, by FORM_TYPE: field var -> values. */
  forms: Map<string, Map<string, string[]>>;
}

/** XEP-0030 disco#info of `to` (the account itself when omitted). */
export async function discoInfo(client: XmppTestClient, to?: string): Promise<DiscoInfo> {
  const result = await client.iq(xml("iq", { type: "get", ...(to ? { to } : {}) }, xml("query", { xmlns: NS_DISCO_INFO })));
  const query = result.getChild("query", NS_DISCO_INFO);
  if (!query) throw new Error(`disco#info of ${to ?? "the account"} answered without a query: ${result.toString()}`);
  const forms = new Map<string, Map<string, string[]>>();
  for (const form of query.getChildren("x", "jabber:x:data")) {
    const fields = new Map(form.getChildren("field").map((field) => [field.attrs.var ?? "", field.getChildren("value").map((value) => value.text())]));
    forms.set(fields.get("FORM_TYPE")?.[0] ?? "", fields);
  }
  return {
    identities: query.getChildren("identity").map(({ attrs }) => ({ category: attrs.category ?? "", type: attrs.type ?? "", ...(attrs.name ? { name: attrs.name } : {}) })),
    features: query.getChildren("feature").map((feature) => feature.attrs.var ?? ""),
    forms,
  };
}

/** XEP-0030 disco#items of `to`: the JIDs listed. */
export async function discoItems(client: XmppTestClient, to: string): Promise<string[]> {
  const result = await client.iq(xml("iq", { type: "get", to }, xml("query", { xmlns: NS_DISCO_ITEMS })));
  return (result.getChild("query", NS_DISCO_ITEMS)?.getChildren("item") ?? []).map((item) => item.attrs.jid ?? "");
}

/** The services of `domain` (disco#items) with their disco#info, as a client looks for MUC, upload or a proxy. */
export async function discoServices(client: XmppTestClient, domain: string): Promise<Map<string, DiscoInfo>> {
  const services = new Map<string, DiscoInfo>();
  for (const jid of await discoItems(client, domain)) services.set(jid, await discoInfo(client, jid));
  return services;
}

/** The first service of `domain` whose disco#info lists `feature`, or undefined. */
export async function findService(client: XmppTestClient, domain: string, feature: string): Promise<{ jid: string; info: DiscoInfo } | undefined> {
  for (const [jid, info] of await discoServices(client, domain)) if (info.features.includes(feature)) return { jid, info };
  return undefined;
}

export type { XmlElement };
