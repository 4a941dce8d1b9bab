import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import WebSocket from "ws";
import { loopbackLookup } from "../https-request.js";

interface SocketClass {
  new (): { url: string | null; secure: boolean; _attachSocket(socket: unknown): void };
}
type TransportClass = (new (...args: never[]) => object) & {
  prototype: { socketParameters(service: string): unknown; Socket?: SocketClass };
};

/**
 * @xmpp/websocket opens the global WebSocket (absent from Node 20 without a flag), with no way
 * to pass a CA. This gives the entity a websocket transport of its own: `ws` with the test CA
 * as the only trust anchor, the URL's name as SNI and identity, and the name resolved to
 * 127.0.0.1. Everything above the socket (framing, stream, SASL) is @xmpp/client's.
 */
export function useVerifiedWebSocket(
  entity: { transports: TransportClass[] },
  hooks: { caPem: string; onCreated(socket: { destroy(): void }): void; onSecure(socket: TLSSocket): void },
): void {
  const WebSocketTransport = entity.transports.find((Transport) => {
    try {
      return typeof Transport.prototype.socketParameters("wss://example.org/") === "string";
    } catch {
      return false;
    }
  });
  const BaseSocket = WebSocketTransport?.prototype.Socket;
  if (!WebSocketTransport || !BaseSocket) throw new Error("@xmpp/client has no websocket transport (its internals changed?)");

  class VerifiedSocket extends BaseSocket {
    connect(url: string): void {
      this.url = url;
      this.secure = true;
      const socket = new WebSocket(url, ["xmpp"], { ca: hooks.caPem, lookup: loopbackLookup });
      socket.once("upgrade", (response: IncomingMessage) => hooks.onSecure(response.socket as TLSSocket));
      hooks.onCreated({ destroy: () => socket.terminate() });
      this._attachSocket(socket);
    }
  }
  const Base = WebSocketTransport as new (...args: never[]) => object;
  class VerifiedWebSocketTransport extends Base {}
  Object.assign(VerifiedWebSocketTransport.prototype, { Socket: VerifiedSocket });
  entity.transports.unshift(VerifiedWebSocketTransport as unknown as TransportClass);
}
