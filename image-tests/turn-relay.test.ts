import { createHmac } from "node:crypto";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppliance, type Appliance } from "./helpers/appliance.js";
import { TEST_LABELS, docker } from "../test-support/docker-engine.js";
import { letsEncryptFixture, type LetsEncryptFixture } from "./helpers/lets-encrypt-fixture.js";
import { runTool, startTool, turnToolsImage, type ToolContainer } from "./helpers/turn-tools.js";
import { connectClient, xml, type XmlElement } from "../test-support/xmpp/connect-client.js";

const DOMAIN = "example.org";
const SECRET = "turn-relay-test-secret-0123456789";
const PEER_PORT = 3480;

/** coturn's test client: allocate a relay, permit the peer, send 10 messages there and back. */
function uclient(server: string, peer: string, credentials: { username: string; password: string }, tcp = false): string[] {
  return ["turnutils_uclient", ...(tcp ? ["-t"] : []), "-c", "-n", "10", "-m", "1", "-u", credentials.username, "-w", credentials.password, "-e", peer, "-r", String(PEER_PORT), server];
}

/** TURN REST credentials as the shared secret makes them, valid until `expires`. */
function restCredentials(expires: Date, user = "someone"): { username: string; password: string } {
  const username = `${Math.floor(expires.getTime() / 1000)}:${user}`;
  return { username, password: createHmac("sha1", SECRET).update(username).digest("base64") };
}

describe("calls through the built-in TURN server", () => {
  let le: LetsEncryptFixture;
  let network: Docker.Network;
  let networkName: string;
  let appliance: Appliance;
  let peer: ToolContainer;
  let otherPeer: ToolContainer;
  let server: string;

  beforeAll(async () => {
    le = letsEncryptFixture([{ name: DOMAIN, names: [DOMAIN, `*.${DOMAIN}`] }]);
    networkName = `appliance-turn-${process.pid}-${Date.now().toString(36)}`;
    network = await docker.createNetwork({ Name: networkName, Labels: TEST_LABELS });
    await turnToolsImage();
    // Two UDP echo peers on the private test network: the relay may reach the first only.
    peer = await startTool(networkName, ["turnutils_peer", "-p", String(PEER_PORT)]);
    otherPeer = await startTool(networkName, ["turnutils_peer", "-p", String(PEER_PORT)]);
    appliance = await startAppliance({
      env: { XMPP_DOMAINS: DOMAIN, XMPP_TURN_SECRET: SECRET, XMPP_TURN_ALLOWED_PEERS: peer.address },
      binds: [le.bind],
      network: { name: networkName, aliases: [DOMAIN] },
    });
    server = (await appliance.container.inspect()).NetworkSettings.Networks[networkName]!.IPAddress;
    const added = await appliance.exec(["prosodyctl", "adduser", `alice@${DOMAIN}`], { stdin: "pw-alice\npw-alice\n" });
    expect(added.exitCode, added.stdout + added.stderr).toBe(0);
  }, 900_000); // builds a test image from Debian packages: minutes on a fresh machine

  afterAll(async () => {
    await appliance?.dispose();
    await peer?.[Symbol.asyncDispose]();
    await otherPeer?.[Symbol.asyncDispose]();
    await network?.remove().catch(() => undefined);
    le?.[Symbol.dispose]();
  });

  /** What a calling client does first: ask its server for STUN/TURN services (XEP-0215). */
  async function externalServices(): Promise<XmlElement[]> {
    await using alice = await connectClient({ port: appliance.port(5222), mode: "starttls", domain: DOMAIN, username: "alice", password: "pw-alice", caPem: le.ca.root.certPem });
    const result = await alice.iq(xml("iq", { type: "get", to: DOMAIN }, xml("services", { xmlns: "urn:xmpp:extdisco:2" })));
    return result.getChild("services", "urn:xmpp:extdisco:2")?.getChildren("service") ?? [];
  }

  it("should hand out STUN, TURN and TURNS at the domain, TURN with credentials that relay data to a peer over UDP and TCP", async () => {
    const services = await externalServices();
    expect(services.map((s) => `${s.attrs.type} ${s.attrs.transport} ${s.attrs.host}:${s.attrs.port}`).sort()).toEqual([
      `stun tcp ${DOMAIN}:3478`,
      `stun udp ${DOMAIN}:3478`,
      `turn tcp ${DOMAIN}:3478`,
      `turn udp ${DOMAIN}:3478`,
      `turns tcp ${DOMAIN}:5349`,
    ]);
    const turn = services.find((s) => s.attrs.type === "turn" && s.attrs.transport === "udp")!;
    const credentials = { username: turn.attrs.username!, password: turn.attrs.password! };
    expect(credentials.username).toMatch(/^\d+$/);

    for (const tcp of [false, true]) {
      const relayed = await runTool(networkName, uclient(server, peer.address, credentials, tcp));
      expect(relayed.stdout, `over ${tcp ? "TCP" : "UDP"}`).toContain("start_mclient: tot_send_msgs=10, tot_recv_msgs=10");
      expect(relayed.stdout).toContain("Total lost packets 0 (0.000000%)");
      expect(relayed.exitCode).toBe(0);
    }
  });

  it("should refuse a wrong password and expired credentials", async () => {
    const turn = (await externalServices()).find((s) => s.attrs.type === "turn")!;
    const wrong = await runTool(networkName, uclient(server, peer.address, { username: turn.attrs.username!, password: "not-the-password" }));
    expect(wrong.stdout).toContain("Cannot complete Allocation");
    expect(wrong.exitCode).not.toBe(0);

    // Signed with the right secret, but an hour past its expiry.
    const expired = await runTool(networkName, uclient(server, peer.address, restCredentials(new Date(Date.now() - 3_600_000))));
    expect(expired.stdout).toContain("Cannot complete Allocation");
    expect(expired.exitCode).not.toBe(0);

    // The same, still valid: the refusals above are about the credentials, not the set-up.
    const valid = await runTool(networkName, uclient(server, peer.address, restCredentials(new Date(Date.now() + 3_600_000))));
    expect(valid.stdout).toContain("Total lost packets 0 (0.000000%)");
  });

  it("should refuse to relay to loopback or to a private address it was not told to allow", async () => {
    const credentials = restCredentials(new Date(Date.now() + 3_600_000));
    for (const target of ["127.0.0.1", otherPeer.address, server]) {
      const refused = await runTool(networkName, uclient(server, target, credentials));
      expect(refused.stdout, `relay to ${target}`).toContain("error 403 (Forbidden IP)");
      expect(refused.stdout).not.toContain("Total lost packets 0");
    }
  });
});
