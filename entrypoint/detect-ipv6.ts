import { createServer } from "node:net";

/**
 * Whether this container can listen on IPv6. Without IPv6 (kernel ipv6.disable=1, or a
 * runtime that blocks AF_INET6), Prosody's default `::` listener fails with "Address family
 * not supported by protocol"; we then configure IPv4 only.
 */
export function canListenOnIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: "::", port: 0, ipv6Only: true }, () => server.close(() => resolve(true)));
  });
}
