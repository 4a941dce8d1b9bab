import { describe, expect, it } from "vitest";
import { loadSettings } from "../settings.js";
import { renderConfig } from "./render-config.js";

const certificates = new Map([
  ["example.org", { certPath: "/le/archive/example.org/fullchain3.pem", keyPath: "/le/archive/example.org/privkey3.pem" }],
  ["example.net", { certPath: "/data/self-signed/example.net.crt", keyPath: "/data/self-signed/example.net.key" }],
]);

function render(env: Record<string, string>, ipv6 = true) {
  return renderConfig({ settings: loadSettings({ XMPP_DOMAINS: "example.org,example.net", ...env }), ipv6, certificates });
}

describe("renderConfig", () => {
  it("should write one VirtualHost per domain with its own certificate", () => {
    const { hosts } = render({});
    expect(hosts).toContain(
      'VirtualHost "example.org"\n    ssl = { certificate = "/le/archive/example.org/fullchain3.pem", key = "/le/archive/example.org/privkey3.pem" }',
    );
    expect(hosts).toContain('VirtualHost "example.net"\n    ssl = { certificate = "/data/self-signed/example.net.crt"');
  });

  it("should give each domain its certificate for direct TLS with SNI too, through the certificate directory", () => {
    const { global, certificateLinks } = render({});
    expect(global).toContain('certificates = "/run/prosody-appliance/certs"');
    expect(certificateLinks).toEqual([
      { name: "example.org", certPath: "/le/archive/example.org/fullchain3.pem", keyPath: "/le/archive/example.org/privkey3.pem" },
      { name: "example.net", certPath: "/data/self-signed/example.net.crt", keyPath: "/data/self-signed/example.net.key" },
    ]);
  });

  it("should give clients without SNI the primary domain's certificate", () => {
    expect(render({}).global).toContain(
      'ssl = { certificate = "/le/archive/example.org/fullchain3.pem", key = "/le/archive/example.org/privkey3.pem" }',
    );
  });

  it("should listen on IPv4 only when IPv6 is unavailable", () => {
    expect(render({}, false).global).toContain('use_ipv6 = false\ninterfaces = { "*" }');
    expect(render({}, true).global).toContain('use_ipv6 = true\ninterfaces = { "*", "::" }');
  });

  it("should write the log level and admins", () => {
    const { global } = render({ XMPP_LOG_LEVEL: "debug", XMPP_ADMINS: "alice@example.org" });
    expect(global).toContain('log = { { levels = { min = "debug" }, to = "console" } }');
    expect(global).toContain('admins = { "alice@example.org" }');
  });

  it("should close port 5269 when federation is off", () => {
    expect(render({ XMPP_FEDERATION: "no" }).global).toContain('s2s_ports = {}\nmodules_disabled = { "s2s", "dialback" }');
    expect(render({}).global).not.toContain("s2s_ports");
  });

  it("should fail loudly when a domain has no certificate", () => {
    expect(() =>
      renderConfig({ settings: loadSettings({ XMPP_DOMAINS: "example.com" }), ipv6: true, certificates }),
    ).toThrow("no certificate for the primary domain example.com");
  });
});
