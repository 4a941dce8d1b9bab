import { connect as connectTls, type TLSSocket } from "node:tls";

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
  /** "result", or the error condition (e.g. "forbidden", "not-allowed", "service-unavailable"). */
  answer: string;
  /** The error's text, when the server gave one. */
  text?: string;
}

/**
 * What a client such as Conversations does with an invite: direct TLS (verified), then the
 * pre-auth token (XEP-0401/0445), then the XEP-0077 form with a username and password.
 */
export async function registerInBand(options: RegistrationOptions): Promise<RegistrationOutcome> {
  const { port, domain, username, password, token, caPem, timeoutMs = 10_000 } = options;
  const socket = connectTls({ host: "127.0.0.1", port, servername: domain, ca: caPem, ALPNProtocols: ["xmpp-client"] });
  const where = `${domain} on 127.0.0.1:${port}`;
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", (error) => reject(new Error(`verified TLS to ${where} failed: ${error.message}`)));
    });
    const read = (pattern: RegExp, what: string) => readUntil(socket, () => received, pattern, `${what} from ${where}`, timeoutMs);

    socket.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`);
    const features = await read(/<stream:features[\s\S]*?<\/stream:features>/, "stream features");
    const outcome: RegistrationOutcome = { features, answer: "" };

    if (token !== undefined) {
      socket.write(`<iq type='set' id='preauth1'><preauth xmlns='urn:xmpp:pars:0' token='${escapeXml(token)}'/></iq>`);
      outcome.tokenAnswer = answerOf(await read(IQ_REPLY("preauth1"), "the answer to the token"));
    }
    socket.write(
      `<iq type='set' id='register1'><query xmlns='jabber:iq:register'><username>${escapeXml(username)}</username><password>${escapeXml(password)}</password></query></iq>`,
    );
    const reply = await read(new RegExp(`${IQ_REPLY("register1").source}|<stream:error[\\s\\S]*?</stream:error>`), "the answer to the registration");
    outcome.answer = answerOf(reply);
    const text = /<text[^>]*>([^<]*)<\/text>/.exec(reply)?.[1];
    if (text !== undefined) outcome.text = text;
    return outcome;
  } finally {
    socket.destroy();
  }
}

const IQ_REPLY = (id: string) => new RegExp(`<iq\\b[^>]*\\bid=['"]${id}['"][^>]*(?:/>|>[\\s\\S]*?</iq>)`);

/** "result", or the name of the first defined condition in the error. */
function answerOf(reply: string): string {
  if (/^<iq\b[^>]*type=['"]result['"]/.test(reply)) return "result";
  const conditions = [...reply.matchAll(/<([a-z-]+)\s+xmlns=['"]urn:ietf:params:xml:ns:xmpp-(?:stanzas|streams)['"]/g)].map((m) => m[1]!);
  return conditions.find((c) => c !== "text") ?? `unparsed: ${reply}`;
}

function escapeXml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/'/g, "&apos;").replace(/"/g, "&quot;");
}

function readUntil(socket: TLSSocket, buffer: () => string, pattern: RegExp, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(buffer());
      if (!match) return false;
      cleanup();
      resolve(match[0]);
      return true;
    };
    const onClose = () => {
      cleanup();
      reject(new Error(`the connection closed while waiting for ${what}; received: ${buffer().slice(-500)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${what} within ${timeoutMs} ms; received: ${buffer().slice(-500)}`));
    }, timeoutMs);
    const onData = () => void check();
    function cleanup() {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
    }
    socket.on("data", onData);
    socket.once("close", onClose);
    check();
  });
}
