import { openSecureStream, XmppWire } from "../../entrypoint/xmpp-wire.js";
import { DEFAULT_STEP_TIMEOUT_MS, LOOPBACK } from "./loopback.js";

export interface RegistrationOptions {
  /** Host port of 5223 (direct TLS) published on 127.0.0.1. */
  port: number;
  domain: string;
  username: string;
  password: string;
  /** XEP-0401/0445 pre-auth token, sent before the registration form. */
  token?: string;
  /** The only trust anchor: the server's certificate must chain to it and name `domain`. */
  caPem: string;
  timeoutMs?: number;
}

export interface RegistrationOutcome {
  /** Stream features before authentication, as received. */
  features: string;
  /** The server's answer to the token, when one was sent: "result" or the error condition. */
  tokenAnswer?: string;
  /** "result", or the error condition (e.g. "forbidden", "not-acceptable", "policy-violation"). */
  answer: string;
  /** The error's text, when the server gave one. */
  text?: string;
}

/**
 * What a client such as Conversations does with an invite: verified direct TLS, then the
 * pre-auth token (XEP-0401/0445), then the XEP-0077 form with a username and password.
 */
export async function registerInBand(options: RegistrationOptions): Promise<RegistrationOutcome> {
  const { port, domain, username, password, token, caPem, timeoutMs = DEFAULT_STEP_TIMEOUT_MS } = options;
  const socket = await openSecureStream({ host: LOOPBACK, port, mode: "direct-tls", domain, sni: true, caPem, verify: true, timeoutMs });
  const wire = new XmppWire(socket, `${LOOPBACK}:${port} (direct TLS, ${domain})`);
  try {
    const outcome: RegistrationOutcome = { features: await wire.openStream(domain, "c2s", timeoutMs), answer: "" };
    if (token !== undefined) {
      wire.send(`<iq type='set' id='preauth1'><preauth xmlns='urn:xmpp:pars:0' token='${escapeXml(token)}'/></iq>`);
      outcome.tokenAnswer = answerOf(await wire.expect(iqReply("preauth1"), "the answer to the token", timeoutMs));
    }
    wire.send(
      `<iq type='set' id='register1'><query xmlns='jabber:iq:register'><username>${escapeXml(username)}</username><password>${escapeXml(password)}</password></query></iq>`,
    );
    const reply = await wire.expect(iqReply("register1"), "the answer to the registration", timeoutMs);
    outcome.answer = answerOf(reply);
    const text = /<text[^>]*>([^<]*)<\/text>/.exec(reply)?.[1];
    if (text !== undefined) outcome.text = text;
    return outcome;
  } finally {
    wire.destroy();
  }
}

const iqReply = (id: string) => new RegExp(`<iq\\b[^>]*\\bid=['"]${id}['"][^>]*(?:/>|>[\\s\\S]*?</iq>)`);

/** "result", or the name of the first defined condition in the error. */
function answerOf(reply: string): string {
  if (/^<iq\b[^>]*type=['"]result['"]/.test(reply)) return "result";
  const conditions = [...reply.matchAll(/<([a-z-]+)\s+xmlns=['"]urn:ietf:params:xml:ns:xmpp-stanzas['"]/g)].map((m) => m[1]!);
  return conditions.find((c) => c !== "text") ?? `unparsed: ${reply}`;
}

function escapeXml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/'/g, "&apos;").replace(/"/g, "&quot;");
}
