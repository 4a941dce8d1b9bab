import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpsRequest } from "../test-support/https-request.js";
import { connectBoshClient } from "../test-support/xmpp/bosh-client.js";
import { DOMAIN, startServicesServer, type ServicesServer } from "../test-support/services-server.js";

const WEBSOCKET_URL = `wss://${DOMAIN}:5281/xmpp-websocket`;
const BOSH_URL = `https://${DOMAIN}:5281/http-bind`;

describe("web clients: websocket (RFC 7395) and BOSH (XEP-0206) on 5281", () => {
  let server: ServicesServer;

  beforeAll(async () => {
    server = await startServicesServer();
    for (const user of ["alice", "carol", "dave"]) await server.addUser(user);
  });
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
  });

  it("should announce both URLs in host-meta, readable from any web origin", async () => {
    const xrd = await httpsRequest(`https://${DOMAIN}:5281/.well-known/host-meta`, { caPem: server.caPem, portMap: server.httpsPortMap, headers: { origin: "https://chat.example.net" } });
    expect(xrd.status).toBe(200);
    expect(xrd.headers["access-control-allow-origin"]).toBe("*");
    expect(xrdLinks(xrd.body.toString("utf8"))).toEqual(
      expect.arrayContaining([
        { rel: "urn:xmpp:alt-connections:websocket", href: WEBSOCKET_URL },
        { rel: "urn:xmpp:alt-connections:xbosh", href: BOSH_URL },
      ]),
    );

    const json = await httpsRequest(`https://${DOMAIN}:5281/.well-known/host-meta.json`, { caPem: server.caPem, portMap: server.httpsPortMap, headers: { origin: "https://chat.example.net" } });
    expect(json.status).toBe(200);
    expect(json.headers["access-control-allow-origin"]).toBe("*");
    expect((JSON.parse(json.body.toString("utf8")) as { links: unknown[] }).links).toEqual(
      expect.arrayContaining([
        { rel: "urn:xmpp:alt-connections:websocket", href: WEBSOCKET_URL },
        { rel: "urn:xmpp:alt-connections:xbosh", href: BOSH_URL },
      ]),
    );
  });

  it("should let a websocket client and a TCP client exchange messages", async () => {
    await using alice = await server.connect("alice");
    await using carol = await server.connect("carol", "websocket");
    expect(carol.serverCertificateSerial).toBe(server.le.tree.serial(DOMAIN));
    await carol.send(`alice@${DOMAIN}`, "Depuis le navigateur, par websocket.");
    expect((await alice.waitForMessage(`carol@${DOMAIN}`)).body).toBe("Depuis le navigateur, par websocket.");
    await alice.send(carol.jid, "Bien reçu sur 5222.");
    expect((await carol.waitForMessage(`alice@${DOMAIN}`)).body).toBe("Bien reçu sur 5222.");
  });

  it("should let a BOSH client and a TCP client exchange messages", async () => {
    await using alice = await server.connect("alice", "direct-tls");
    await using dave = await connectBoshClient({
      url: BOSH_URL,
      portMap: server.httpsPortMap,
      caPem: server.caPem,
      jid: `dave@${DOMAIN}`,
      password: server.passwordOf("dave"),
    });
    expect(dave.serverCertificateSerial).toBe(server.le.tree.serial(DOMAIN));
    await dave.send(`alice@${DOMAIN}`, "Par BOSH, requête après requête.");
    expect((await alice.waitForMessage(`dave@${DOMAIN}`)).body).toBe("Par BOSH, requête après requête.");
    await alice.send(dave.jid, "Reçu en direct TLS.");
    expect((await dave.waitForMessage(`alice@${DOMAIN}`)).body).toBe("Reçu en direct TLS.");
  });
});

/** The <Link/> elements of an XRD document (RFC 6415), as { rel, href } like host-meta.json's. */
function xrdLinks(xrd: string): Array<Record<string, string>> {
  return [...xrd.matchAll(/<Link\b([^>]*?)\/?>/g)].map((link) => Object.fromEntries([...link[1]!.matchAll(/(\w+)=(["'])(.*?)\2/g)].map((attr) => [attr[1]!, attr[3]!])));
}
