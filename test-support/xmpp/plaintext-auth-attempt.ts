import { connectTcp, XmppWire } from "../../entrypoint/xmpp-wire.js";
import { describeError } from "./describe-error.js";
import { DEFAULT_STEP_TIMEOUT_MS, LOOPBACK } from "./loopback.js";

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
  const wire = new XmppWire(await connectTcp(LOOPBACK, port, timeoutMs), `${LOOPBACK}:${port}`);
  try {
    const features = await wire.openStream(domain, "c2s", timeoutMs);
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

function firstChildName(element: string): string | undefined {
  const children = [...element.matchAll(/<([a-zA-Z][\w-]*)\b/g)].map((m) => m[1]!).slice(1);
  return children.find((name) => name !== "text");
}
