import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findService } from "../test-support/xmpp/disco.js";
import { NS_BYTESTREAMS, proxyStreamhost, transferThroughProxy } from "../test-support/xmpp/socks5-bytestreams.js";
import { freeLoopbackPort } from "../test-support/free-loopback-port.js";
import { DOMAIN, startServicesServer, type ServicesServer } from "../test-support/services-server.js";

describe("file transfer through the server's own proxy (XEP-0065)", () => {
  let server: ServicesServer;
  let proxyPort: number;

  beforeAll(async () => {
    // Published as P:P: the proxy advertises the port it listens on, so that must be reachable.
    proxyPort = await freeLoopbackPort();
    server = await startServicesServer({
      env: { XMPP_PROXY65_PORT: String(proxyPort), XMPP_PROXY65_ADDRESS: "127.0.0.1" },
      extraPorts: [{ port: proxyPort, samePort: true }],
    });
    for (const user of ["alice", "bob"]) await server.addUser(user);
  });
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
  });

  it("should carry a file between two clients through the streamhost it advertises, from outside the container", async () => {
    await using alice = await server.connect("alice");
    await using bob = await server.connect("bob", "direct-tls");

    const proxy = await findService(alice, DOMAIN, NS_BYTESTREAMS);
    expect(proxy?.jid).toBe(`proxy.${DOMAIN}`);
    const streamhost = await proxyStreamhost(alice, proxy!.jid);
    expect(streamhost).toEqual({ jid: `proxy.${DOMAIN}`, host: "127.0.0.1", port: proxyPort });

    const file = randomBytes(256 * 1024);
    const received = await transferThroughProxy(alice, bob, streamhost, file);
    expect(received.length).toBe(file.length);
    expect(received.equals(file)).toBe(true);
  });
});
