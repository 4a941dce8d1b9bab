import { describe, expect, it } from "vitest";
import { loadSettings } from "../settings.js";
import { renderTurnServerConfig } from "./turn-server-config.js";

const input = (env: Record<string, string> = {}) => ({
  settings: loadSettings({ XMPP_DOMAINS: "example.org", ...env }),
  secret: "0123456789abcdefghij",
  certificate: { certPath: "/dev/shm/turn/certificate.pem", keyPath: "/dev/shm/turn/key.pem" },
  pidFile: "/dev/shm/turn/turnserver.pid",
  userDb: "/dev/shm/turn/turndb",
});

describe("renderTurnServerConfig", () => {
  it("should listen on 3478 and 5349 with the certificate copy and check REST credentials against the secret", () => {
    const lines = renderTurnServerConfig(input()).split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "listening-port=3478",
        "tls-listening-port=5349",
        "min-port=49160",
        "max-port=49200",
        "realm=example.org",
        "use-auth-secret",
        "static-auth-secret=0123456789abcdefghij",
        "cert=/dev/shm/turn/certificate.pem",
        "pkey=/dev/shm/turn/key.pem",
        "no-cli",
        "log-file=stdout",
        "pidfile=/dev/shm/turn/turnserver.pid",
        "userdb=/dev/shm/turn/turndb",
      ]),
    );
    expect(lines.filter((l) => l.startsWith("external-ip") || l.startsWith("allowed-peer-ip"))).toEqual([]);
  });

  it("should offer TLS 1.2+ with forward-secret AEAD ciphers only, and no TLS at all under the modern profile", () => {
    const lines = renderTurnServerConfig(input()).split("\n");
    expect(lines).toEqual(expect.arrayContaining(["no-tlsv1", "no-tlsv1_1", "no-dtls"]));
    const ciphers = lines.find((l) => l.startsWith("cipher-list="))!.slice("cipher-list=".length).split(":");
    expect(ciphers.length).toBeGreaterThan(0);
    for (const cipher of ciphers) expect(cipher).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    expect(lines).not.toContain("no-tls");

    const modern = renderTurnServerConfig(input({ XMPP_TLS_PROFILE: "modern" })).split("\n");
    expect(modern).toContain("no-tls");
    expect(modern.filter((l) => l.startsWith("cipher-list=") || l.startsWith("no-tlsv"))).toEqual([]);
  });

  it("should deny loopback and private peers, and allow only the ranges set", () => {
    const lines = renderTurnServerConfig(input({ XMPP_TURN_ALLOWED_PEERS: "172.18.0.0/16", XMPP_TURN_EXTERNAL_IP: "203.0.113.7" })).split("\n");
    for (const range of ["127.0.0.0-127.255.255.255", "10.0.0.0-10.255.255.255", "172.16.0.0-172.31.255.255", "192.168.0.0-192.168.255.255", "::1"]) {
      expect(lines).toContain(`denied-peer-ip=${range}`);
    }
    expect(lines).toContain("allowed-peer-ip=172.18.0.0-172.18.255.255");
    expect(lines).toContain("external-ip=203.0.113.7");
  });
});
