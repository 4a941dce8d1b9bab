import * as XMPP from "stanza";
import * as boshModule from "stanza/transports/bosh.js";
import { httpsRequest } from "../https-request.js";

export interface BoshClientOptions {
  /** e.g. https://example.org:5281/http-bind; fetched through `portMap`, the name resolved to 127.0.0.1. */
  url: string;
  portMap: Record<number, number>;
  /** The only trust anchor for every request. */
  caPem: string;
  jid: string;
  password: string;
  timeoutMs?: number;
}

export interface BoshTestClient extends AsyncDisposable {
  /** Full JID bound by the server. */
  readonly jid: string;
  /** Serial (upper-case hex) of the certificate the BOSH requests were verified against. */
  readonly serverCertificateSerial: string;
  send(toJid: string, body: string): Promise<void>;
  waitForMessage(fromBareJid: string, timeoutMs?: number): Promise<{ from: string; body: string }>;
  close(): Promise<void>;
}

interface RequestChannelLike {
  rid: number | undefined;
  active: boolean;
  maxTimeout: number;
  send(rid: number, body: string): Promise<string>;
}

/**
 * Logs in over BOSH (XEP-0206) with stanza.js, a client library web apps use. stanza posts its
 * requests with the global fetch, which cannot be given a CA; its transport here posts through
 * httpsRequest instead (test CA as the only anchor, SNI = the URL's host). Everything else,
 * the BOSH session, SASL and binding, is stanza's.
 */
export async function connectBoshClient(options: BoshClientOptions): Promise<BoshTestClient> {
  const { url, portMap, caPem, jid, password, timeoutMs = 20_000 } = options;
  let serverCertificateSerial = "";
  const raw: string[] = [];

  class VerifiedChannel implements RequestChannelLike {
    rid: number | undefined;
    active = false;
    maxTimeout: number;
    constructor(private readonly transport: { url: string; maxWaitTime: number; contentType: string }) {
      this.maxTimeout = 1100 * transport.maxWaitTime;
    }
    async send(rid: number, body: string): Promise<string> {
      this.rid = rid;
      this.active = true;
      try {
        const response = await httpsRequest(this.transport.url, {
          caPem,
          portMap,
          method: "POST",
          headers: { "content-type": this.transport.contentType },
          body,
          timeoutMs: this.maxTimeout + 5_000,
        });
        serverCertificateSerial = response.certificateSerial;
        if (response.status !== 200) throw new Error(`BOSH request to ${this.transport.url} answered HTTP ${response.status}: ${response.body.toString("utf8")}`);
        return response.body.toString("utf8");
      } finally {
        this.active = false;
      }
    }
  }
  class VerifiedBosh extends boshTransportClass() {
    constructor(...args: unknown[]) {
      super(...args);
      const self = this as unknown as { channels: RequestChannelLike[] };
      self.channels = [new VerifiedChannel(this as never), new VerifiedChannel(this as never)];
      // stanza writes to an ended transport when a failed login is torn down: keep that in the
      // exchange log the failure quotes, not as an unhandled error after the test.
      (this as unknown as NodeJS.EventEmitter).on("error", (error: Error) => raw.push(`transport error: ${error.message}`));
    }
  }

  const client = XMPP.createClient({ jid, password, transports: { bosh: url, websocket: false }, transportPreferenceOrder: ["bosh"] });
  client.transports.bosh = VerifiedBosh as never;
  const inbox: Array<{ from: string; body: string }> = [];
  const waiters = new Set<() => void>();
  client.on("message", (message) => {
    if (message.body === undefined) return;
    inbox.push({ from: message.from, body: message.body });
    for (const wake of waiters) wake();
  });
  client.on("raw", (direction, data) => raw.push(`${direction}: ${data.slice(0, 300)}`));

  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`BOSH login as ${jid} at ${url} did not complete within ${timeoutMs} ms; last exchanges:\n${raw.slice(-6).join("\n")}`)), timeoutMs);
    client.once("session:started", () => {
      clearTimeout(timer);
      resolve();
    });
    client.once("disconnected", () => {
      clearTimeout(timer);
      reject(new Error(`BOSH login as ${jid} at ${url} failed: disconnected; last exchanges:\n${raw.slice(-6).join("\n")}`));
    });
  });
  client.connect();
  try {
    await started;
  } catch (error) {
    await Promise.resolve(client.disconnect()).catch(() => undefined);
    throw error;
  }
  client.sendPresence();

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.race([Promise.resolve(client.disconnect()).catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 3_000))]);
  };
  return {
    jid: client.jid,
    get serverCertificateSerial() {
      return serverCertificateSerial;
    },
    async send(to, body) {
      client.sendMessage({ to, body, type: "chat" });
    },
    async waitForMessage(fromBareJid, waitMs = 10_000) {
      const deadline = Date.now() + waitMs;
      while (true) {
        const index = inbox.findIndex((message) => message.from.split("/")[0] === fromBareJid);
        if (index >= 0) return inbox.splice(index, 1)[0]!;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`Timed out after ${waitMs} ms waiting for a message from ${fromBareJid} to ${client.jid} over BOSH; others: ${JSON.stringify(inbox)}`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, remaining);
          waiters.add(wake);
        });
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** stanza's BOSH transport class (a CommonJS default export, reached through ESM interop). */
function boshTransportClass(): new (...args: unknown[]) => object {
  const exported = boshModule as unknown as { default?: { default?: unknown } | unknown };
  const candidate = (exported.default as { default?: unknown } | undefined)?.default ?? exported.default;
  if (typeof candidate !== "function") throw new Error("stanza/transports/bosh.js exports no transport class (its layout changed?)");
  return candidate as new (...args: unknown[]) => object;
}
