import { describe, expect, it } from "vitest";
import { loadSettings } from "./settings.js";
import { problemsOf as problemsOfAny } from "./test-settings.js";

const SECRET = "0123456789abcdefghij";

const problemsOf = (env: Record<string, string>) => problemsOfAny({ XMPP_DOMAINS: "example.org", ...env });

describe("TURN settings", () => {
  it("should read the relay range, public address and the peers allowed despite the deny list", () => {
    const settings = loadSettings({
      XMPP_DOMAINS: "example.org",
      XMPP_TURN_RELAY_PORTS: " 50000 - 50100 ",
      XMPP_TURN_EXTERNAL_IP: "203.0.113.7",
      XMPP_TURN_ALLOWED_PEERS: "172.18.0.0/16, 10.1.2.3 fd00::5",
    });
    expect(settings.turnRelayPorts).toEqual({ first: 50000, last: 50100 });
    expect(settings.turnExternalIp).toBe("203.0.113.7");
    expect(settings.turnAllowedPeers).toEqual(["172.18.0.0-172.18.255.255", "10.1.2.3", "fd00::5"]);
  });

  it("should take an external server's host, ports and secret, the secret also from a file", () => {
    const settings = loadSettings(
      { XMPP_DOMAINS: "example.org", XMPP_TURN: "External", XMPP_TURN_HOST: "turn.example.net", XMPP_TURN_TLS_PORT: "none", XMPP_TURN_SECRET_FILE: "/run/secrets/turn" },
      (path) => (path === "/run/secrets/turn" ? `${SECRET}\n` : ""),
    );
    expect([settings.turn, settings.turnHost, settings.turnPort, settings.turnTlsPort, settings.turnSecret]).toEqual(["external", "turn.example.net", 3478, undefined, SECRET]);
  });

  it.each([
    [{ XMPP_TURN: "coturn" }, 'XMPP_TURN="coturn" is invalid: "coturn" is not one of them. Accepted: builtin, external or off, e.g. XMPP_TURN=external.'],
    [{ XMPP_TURN_RELAY_PORTS: "49200-49160" }, 'XMPP_TURN_RELAY_PORTS="49200-49160" is invalid: 49200 is above 49160. Accepted: a range first-last within 1024..65535, like 49160-49200, e.g. XMPP_TURN_RELAY_PORTS=50000-50100.'],
    [{ XMPP_TURN_RELAY_PORTS: "5000-6000" }, 'XMPP_TURN_RELAY_PORTS="5000-6000" is invalid: 5222 is already used by another service. Accepted: a range first-last within 1024..65535, like 49160-49200, e.g. XMPP_TURN_RELAY_PORTS=50000-50100.'],
    [{ XMPP_TURN_RELAY_PORTS: "49160" }, 'XMPP_TURN_RELAY_PORTS="49160" is invalid: "49160" is not a port range like 49160-49200. Accepted: a range first-last within 1024..65535, like 49160-49200, e.g. XMPP_TURN_RELAY_PORTS=50000-50100.'],
    [{ XMPP_TURN_EXTERNAL_IP: "turn.example.org" }, 'XMPP_TURN_EXTERNAL_IP="turn.example.org" is invalid: "turn.example.org" is not an IP address. Accepted: an IPv4 or IPv6 address, or empty, e.g. XMPP_TURN_EXTERNAL_IP=203.0.113.7.'],
    [{ XMPP_TURN_ALLOWED_PEERS: "10.0.0.0/33" }, 'XMPP_TURN_ALLOWED_PEERS="10.0.0.0/33" is invalid: "10.0.0.0/33" is not an IP address or IPv4 CIDR range. Accepted: IP addresses or IPv4 CIDR ranges separated by commas or spaces, or empty, e.g. XMPP_TURN_ALLOWED_PEERS=192.168.1.0/24.'],
    [{ XMPP_TURN_HOST: "turn.example.org" }, 'XMPP_TURN_HOST="turn.example.org" is invalid: it is only used with XMPP_TURN=external (the built-in server is reached at the primary domain). Accepted: a host name or IP address (with XMPP_TURN=external), or empty, e.g. XMPP_TURN_HOST=turn.example.org.'],
    [{ XMPP_TURN_TLS_PORT: "70000" }, 'XMPP_TURN_TLS_PORT="70000" is invalid: "70000" is not a port number. Accepted: a port number from 1 to 65535, or none, e.g. XMPP_TURN_TLS_PORT=443.'],
    [{ XMPP_PROXY65_PORT: "3478" }, 'XMPP_PROXY65_PORT="3478" is invalid: 3478 is already used by another service. Accepted: a port number from 1 to 65535 not used by another service, e.g. XMPP_PROXY65_PORT=7777.'],
  ])("should refuse %o, saying what is accepted", (env, problem) => {
    expect(problemsOf(env)).toEqual([problem]);
  });

  it("should require a host and secret for an external server", () => {
    expect(problemsOf({ XMPP_TURN: "external" })).toEqual([
      "XMPP_TURN_SECRET is invalid: it is required with XMPP_TURN=external (the secret your TURN server is configured with). Accepted: at least 16 printable ASCII characters without spaces; empty: generated (builtin), e.g. XMPP_TURN_SECRET=0123456789abcdef0123.",
      'XMPP_TURN_HOST="" is invalid: it is required with XMPP_TURN=external. Accepted: a host name or IP address (with XMPP_TURN=external), or empty, e.g. XMPP_TURN_HOST=turn.example.org.',
    ]);
  });

  it("should never show a secret's value, even a bad one", () => {
    const problems = problemsOf({ XMPP_TURN_SECRET: "short-Secret" });
    expect(problems).toEqual([
      "XMPP_TURN_SECRET is invalid: it has 12 characters, fewer than 16. Accepted: at least 16 printable ASCII characters without spaces; empty: generated (builtin), e.g. XMPP_TURN_SECRET=0123456789abcdef0123.",
    ]);
    expect(problemsOf({ XMPP_TURN_SECRET: "a secret with spaces" }).join()).not.toContain("with spaces");
  });
});
