import { describe, expect, it } from "vitest";
import { loadSettings } from "./settings.js";
import { problemsOf } from "./test-settings.js";

describe("metrics settings", () => {
  it("should be off unless an address and port are given, and take IPv4 and IPv6 scrapers", () => {
    expect(loadSettings({ XMPP_DOMAINS: "example.org" }).metrics).toBe("off");
    const settings = loadSettings({ XMPP_DOMAINS: "example.org", XMPP_METRICS: "[::]:9100", XMPP_METRICS_ALLOW: "10.0.0.0/8, 127.0.0.1 fd00::/8" });
    expect(settings.metrics).toEqual({ host: "::", port: 9100 });
    expect(settings.metricsAllow).toEqual(["10.0.0.0/8", "127.0.0.1/32", "fd00::/8"]);
    expect(loadSettings({ XMPP_DOMAINS: "example.org", XMPP_METRICS: "0.0.0.0:9100" }).metrics).toEqual({ host: "0.0.0.0", port: 9100 });
  });

  it.each([
    [{ XMPP_METRICS: "9100" }, 'XMPP_METRICS="9100" is invalid: "9100" is not an address and port like 127.0.0.1:9100, 0.0.0.0:9100 or [::]:9100. Accepted: off (or no, or empty), or an address of the container and a port, like 127.0.0.1:9100, 0.0.0.0:9100 or [::]:9100, e.g. XMPP_METRICS=0.0.0.0:9100.'],
    [{ XMPP_METRICS: "metrics.example.org:9100" }, 'XMPP_METRICS="metrics.example.org:9100" is invalid: "metrics.example.org:9100" is not an address and port like 127.0.0.1:9100, 0.0.0.0:9100 or [::]:9100. Accepted: off (or no, or empty), or an address of the container and a port, like 127.0.0.1:9100, 0.0.0.0:9100 or [::]:9100, e.g. XMPP_METRICS=0.0.0.0:9100.'],
    [{ XMPP_METRICS: "0.0.0.0:5281" }, 'XMPP_METRICS="0.0.0.0:5281" is invalid: 5281 is already used by another service. Accepted: off (or no, or empty), or an address of the container and a port, like 127.0.0.1:9100, 0.0.0.0:9100 or [::]:9100, e.g. XMPP_METRICS=0.0.0.0:9100.'],
    [{ XMPP_METRICS: "0.0.0.0:7777", XMPP_PROXY65_PORT: "7777" }, 'XMPP_METRICS="0.0.0.0:7777" is invalid: 7777 is already used by another service. Accepted: off (or no, or empty), or an address of the container and a port, like 127.0.0.1:9100, 0.0.0.0:9100 or [::]:9100, e.g. XMPP_METRICS=0.0.0.0:9100.'],
    [{ XMPP_METRICS_ALLOW: "10.0.0.0/33" }, 'XMPP_METRICS_ALLOW="10.0.0.0/33" is invalid: "10.0.0.0/33" is not an IP address or CIDR range (IPv4 or IPv6). Accepted: IP addresses or CIDR ranges (IPv4 or IPv6) separated by commas or spaces, or empty, e.g. XMPP_METRICS_ALLOW=10.0.0.0/8,127.0.0.1.'],
  ])("should refuse %o, saying what is accepted", (env, problem) => {
    expect(problemsOf({ XMPP_DOMAINS: "example.org", ...env })).toEqual([problem]);
  });
});
