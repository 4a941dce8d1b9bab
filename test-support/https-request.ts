import type { IncomingHttpHeaders } from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import type { TLSSocket } from "node:tls";
import { LOOPBACK } from "./xmpp/loopback.js";

/** Tests reach the server only on 127.0.0.1: every name resolves there, as a hosts-file entry would. */
export const loopbackLookup: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{ address: LOOPBACK, family: 4 }]);
  else callback(null, LOOPBACK, 4);
};

export interface HttpsRequestOptions {
  /** The only trust anchor: the served chain must verify against it and name the URL's host. */
  caPem: string;
  /**
   * Container port -> published host port, like a NAT port-forward: a URL the server wrote
   * (`https://upload.example.org:5281/...`) is fetched through the port it is published on.
   */
  portMap?: Record<number, number>;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

export interface HttpsResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Serial (upper-case hex) of the certificate the connection was verified against. */
  certificateSerial: string;
}

/** One HTTPS request with SNI = the URL's host name and the certificate verified against `caPem`. */
export function httpsRequest(url: string, options: HttpsRequestOptions): Promise<HttpsResponse> {
  const { caPem, portMap = {}, method = "GET", headers = {}, body, timeoutMs = 10_000 } = options;
  const target = new URL(url);
  const urlPort = Number(target.port || 443);
  const port = portMap[urlPort] ?? urlPort;
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: target.hostname,
        port,
        path: `${target.pathname}${target.search}`,
        method,
        // The Host header a client of the real URL would send.
        headers: { host: target.host, ...headers },
        servername: target.hostname,
        ca: caPem,
        lookup: loopbackLookup,
        agent: false,
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        const certificateSerial = (response.socket as TLSSocket).getPeerCertificate().serialNumber?.toUpperCase() ?? "";
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), certificateSerial }));
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`${method} ${url} (via 127.0.0.1:${port}) got no answer within ${timeoutMs} ms`)));
    request.on("error", (error) => reject(new Error(`${method} ${url} (via 127.0.0.1:${port}) failed: ${error.message}`, { cause: error })));
    request.end(body);
  });
}
