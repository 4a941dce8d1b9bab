import { createHash, randomUUID } from "node:crypto";
import net from "node:net";
import { xml, type XmppTestClient } from "./connect-client.js";

export const NS_BYTESTREAMS = "http://jabber.org/protocol/bytestreams";

export interface Streamhost {
  jid: string;
  host: string;
  port: number;
}

/** XEP-0065 5.3.1: the address a proxy tells clients to connect to. */
export async function proxyStreamhost(client: XmppTestClient, proxy: string): Promise<Streamhost> {
  const result = await client.iq(xml("iq", { type: "get", to: proxy }, xml("query", { xmlns: NS_BYTESTREAMS })));
  const streamhost = result.getChild("query", NS_BYTESTREAMS)?.getChild("streamhost");
  if (!streamhost) throw new Error(`${proxy} answered without a streamhost: ${result.toString()}`);
  return { jid: streamhost.attrs.jid ?? "", host: streamhost.attrs.host ?? "", port: Number(streamhost.attrs.port) };
}

/**
 * XEP-0065 through a proxy, as two clients do it: the requester offers the proxy's streamhost,
 * the target connects to it and says so, the requester connects and asks the proxy to activate,
 * then `payload` goes from requester to target. Resolves with what the target received.
 * Connections go to 127.0.0.1 at the advertised port: the host must be the loopback address.
 */
export async function transferThroughProxy(requester: XmppTestClient, target: XmppTestClient, streamhost: Streamhost, payload: Buffer): Promise<Buffer> {
  const sid = `s5b-${randomUUID().slice(0, 8)}`;
  const address = createHash("sha1").update(`${sid}${requester.jid}${target.jid}`).digest("hex");
  if (streamhost.host !== "127.0.0.1") throw new Error(`the proxy advertises ${streamhost.host}:${streamhost.port}; this test reaches it only on 127.0.0.1`);

  let targetSocket: Promise<net.Socket> | undefined;
  target.handleIq("set", NS_BYTESTREAMS, "query", async (request) => {
    const offered = request.getChild("query", NS_BYTESTREAMS)!.getChildren("streamhost")[0]!;
    targetSocket = socks5Connect(offered.attrs.host!, Number(offered.attrs.port), address);
    await targetSocket;
    return xml("query", { xmlns: NS_BYTESTREAMS, sid }, xml("streamhost-used", { jid: offered.attrs.jid }));
  });

  await requester.iq(
    xml("iq", { type: "set", to: target.jid }, xml("query", { xmlns: NS_BYTESTREAMS, sid, mode: "tcp" }, xml("streamhost", { jid: streamhost.jid, host: streamhost.host, port: String(streamhost.port) }))),
  );
  const requesterSocket = await socks5Connect(streamhost.host, streamhost.port, address);
  const received = (async () => readAll(await targetSocket!, payload.length))();
  await requester.iq(xml("iq", { type: "set", to: streamhost.jid }, xml("query", { xmlns: NS_BYTESTREAMS, sid }, xml("activate", {}, target.jid))));
  requesterSocket.end(payload);
  try {
    return await received;
  } finally {
    requesterSocket.destroy();
    (await targetSocket!).destroy();
  }
}

/** RFC 1928 CONNECT, no authentication, to DOMAINNAME `address` port 0 (XEP-0065's hash). */
async function socks5Connect(host: string, port: number, address: string): Promise<net.Socket> {
  const socket = net.connect({ host, port });
  const reader = new ByteReader(socket, `SOCKS5 proxy ${host}:${port}`);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", (error) => reject(new Error(`connecting to the proxy at ${host}:${port} failed: ${error.message}`)));
  });
  socket.write(Buffer.from([5, 1, 0]));
  const greeting = await reader.read(2);
  if (greeting[0] !== 5 || greeting[1] !== 0) throw new Error(`${host}:${port} refused SOCKS5 without authentication: ${greeting.toString("hex")}`);
  const name = Buffer.from(address, "ascii");
  socket.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([0, 0])]));
  const reply = await reader.read(5 + name.length + 2);
  if (reply[1] !== 0) throw new Error(`${host}:${port} refused CONNECT ${address}: reply code ${reply[1]}`);
  reader.release();
  return socket;
}

function readAll(socket: net.Socket, expected: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(() => reject(new Error(`received ${length} of ${expected} bytes through the proxy within 15 s`)), 15_000);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
    });
    socket.on("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.on("error", reject);
    socket.resume();
  });
}

/** Reads exact byte counts off a socket during the SOCKS5 handshake. */
class ByteReader {
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private closed = false;
  private readonly onData = (chunk: Buffer) => {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    this.waiting?.();
  };
  private readonly onClose = () => {
    this.closed = true;
    this.waiting?.();
  };

  constructor(
    private readonly socket: net.Socket,
    private readonly where: string,
  ) {
    socket.on("data", this.onData);
    socket.on("close", this.onClose);
  }

  async read(count: number, timeoutMs = 5_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered.length < count) {
      if (this.closed) throw new Error(`${this.where} closed the connection after ${this.buffered.length} of ${count} bytes`);
      if (Date.now() > deadline) throw new Error(`${this.where} sent ${this.buffered.length} of ${count} bytes within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const out = this.buffered.subarray(0, count);
    this.buffered = this.buffered.subarray(count);
    return out;
  }

  /** Hands the socket over, paused so no byte is lost until its next reader listens. */
  release(): void {
    this.socket.pause();
    this.socket.off("data", this.onData);
    this.socket.off("close", this.onClose);
  }
}
