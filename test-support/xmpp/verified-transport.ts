import { EventEmitter } from "node:events";
import type tls from "node:tls";

import { openSecureStream, type SecureStreamOptions } from "../../entrypoint/xmpp-wire.js";
import { LOOPBACK } from "./loopback.js";

// The parts of @xmpp/client 0.14 the test clients rely on.
export interface XmlElement {
  name: string;
  attrs: Record<string, string | undefined>;
  children: Array<XmlElement | string>;
  is(name: string, xmlns?: string): boolean;
  getChild(name: string, xmlns?: string): XmlElement | undefined;
  getChildren(name: string, xmlns?: string): XmlElement[];
  getChildText(name: string, xmlns?: string): string | null;
  getChildElements(): XmlElement[];
  text(): string;
  toString(): string;
}

export interface XmppEntity extends EventEmitter {
  status: string;
  jid: { toString(): string } | null;
  transports: TransportClass[];
  reconnect: { stop(): void };
  iqCaller: { request(element: XmlElement, timeoutMs?: number): Promise<XmlElement> };
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(element: XmlElement): Promise<void>;
  streamManagement: { enabled: boolean };
  iqCallee: Record<"get" | "set", (xmlns: string, name: string, handler: (context: { stanza: XmlElement }) => Promise<XmlElement | true>) => void>;
}

export type TransportClass = (new (...args: never[]) => object) & {
  prototype: { socketParameters(service: string): unknown };
};

/**
 * @xmpp/client opens TLS itself with `tls.connect` and no way to pass a CA, a server name for
 * an IP address, or an identity to check. Instead of patching `tls.connect` for the whole
 * process, this client gets a transport of its own: the socket below does TCP, the STARTTLS
 * exchange if any, and a verified handshake, then hands @xmpp/client a secure stream on which
 * it opens a fresh XML stream, exactly as after its own STARTTLS.
 */
export function useVerifiedTransport(
  entity: XmppEntity,
  hooks: { target: SecureStreamOptions; onCreated(socket: { destroy(): void }): void; onSecure(socket: tls.TLSSocket): void },
): void {
  const DirectTlsTransport = entity.transports.find((Transport) => {
    try {
      return Transport.prototype.socketParameters(`xmpps://${LOOPBACK}:1`) !== undefined;
    } catch {
      return false;
    }
  });
  if (!DirectTlsTransport) throw new Error("@xmpp/client has no direct TLS transport (its internals changed?)");

  class VerifiedTransport extends DirectTlsTransport {
    socketParameters(): SecureStreamOptions {
      return hooks.target;
    }
  }
  class Socket extends VerifiedTlsSocket {
    constructor() {
      super(hooks.onSecure);
      hooks.onCreated(this);
    }
  }
  Object.assign(VerifiedTransport.prototype, { Socket });
  entity.transports.unshift(VerifiedTransport);
}

/** The socket interface @xmpp/connection expects: connect/write/end plus connect/data/close/error. */
export class VerifiedTlsSocket extends EventEmitter {
  readonly secure = true;
  private socket: tls.TLSSocket | undefined;

  constructor(private readonly onSecure: (socket: tls.TLSSocket) => void) {
    super();
  }

  connect(target: SecureStreamOptions): void {
    openSecureStream(target).then(
      (socket) => {
        this.socket = socket;
        socket.on("data", (data: Buffer) => this.emit("data", data));
        socket.on("error", (error: Error) => this.emit("error", error));
        socket.on("close", (hadError: boolean) => this.emit("close", hadError));
        this.onSecure(socket);
        this.emit("connect");
      },
      (error: unknown) => this.emit("error", error),
    );
  }

  write(data: string, callback: (error?: Error | null) => void): void {
    if (!this.socket) return callback(new Error("TLS stream not open"));
    this.socket.write(data, callback);
  }

  end(): void {
    this.socket?.end();
  }

  destroy(): void {
    this.socket?.destroy();
  }
}
