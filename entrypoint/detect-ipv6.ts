// net's listen() asks `cluster` whether this is a worker and loads it on first use, most of a
// first listen's time without a JIT; imported here, it is in the entrypoint's startup snapshot.
import "node:cluster";
import { createServer, type AddressInfo } from "node:net";

/**
 * Whether this container can listen on IPv6. Without IPv6 (kernel ipv6.disable=1, or a
 * runtime that blocks AF_INET6), Prosody's default `::` listener fails with "Address family
 * not supported by protocol"; we then configure IPv4 only. A listener given no address is what
 * answers: Node binds it to `::`, or to 0.0.0.0 when an IPv6 socket fails, and looks no name up
 * on the way (an address given, even `::`, would load and ask the resolver).
 */
export function canListenOnIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(0, () => {
      const ipv6 = (server.address() as AddressInfo).family === "IPv6";
      server.close(() => resolve(ipv6));
    });
  });
}
