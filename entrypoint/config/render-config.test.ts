import { describe, expect, it } from "vitest";
import { loadSettings } from "../settings.js";
import { certificateNames } from "../certificate-names.js";
import { renderConfig } from "./render-config.js";

const certificates = new Map([
  ["example.org", { certPath: "/le/archive/example.org/fullchain3.pem", keyPath: "/le/archive/example.org/privkey3.pem" }],
  ["example.net", { certPath: "/data/self-signed/example.net.crt", keyPath: "/data/self-signed/example.net.key" }],
  ...["conference", "upload", "proxy"].flatMap((sub) =>
    ["example.org", "example.net"].map((domain): [string, { certPath: string; keyPath: string }] => [
      `${sub}.${domain}`,
      { certPath: `/le/archive/${domain}/fullchain3.pem`, keyPath: `/le/archive/${domain}/privkey3.pem` },
    ]),
  ),
]);

const TURN_SECRET = "0123456789abcdefghij";

/** Renders with a certificate for every name the settings need, as main.ts resolves them. */
function render(env: Record<string, string>, ipv6 = true) {
  const settings = loadSettings({ XMPP_DOMAINS: "example.org,example.net", ...env });
  const needed = new Map(certificateNames(settings).map((name) => [name, certificates.get(name)!]));
  return renderConfig({ settings, ipv6, certificates: needed, turnSecret: TURN_SECRET });
}

describe("renderConfig", () => {
  it("should set XMPP_TLS_PROFILE as Prosody's tls_profile, which every listener uses", () => {
    expect(render({}).global).toContain('tls_profile = "intermediate"\n');
    expect(render({ XMPP_TLS_PROFILE: "Modern" }).global).toContain('tls_profile = "modern"\n');
  });

  it("should write one VirtualHost per domain with its own certificate", () => {
    const { hosts } = render({});
    expect(hosts).toContain(
      'VirtualHost "example.org"\n    ssl = { certificate = "/le/archive/example.org/fullchain3.pem", key = "/le/archive/example.org/privkey3.pem" }',
    );
    expect(hosts).toContain('VirtualHost "example.net"\n    ssl = { certificate = "/data/self-signed/example.net.crt"');
  });

  it("should write each domain's components after its VirtualHost, each with its certificate", () => {
    const { hosts } = render({});
    const order = ["example.org", "conference.example.org", "upload.example.org", "proxy.example.org", "example.net", "conference.example.net"]
      .map((name) => hosts.search(new RegExp(`^(VirtualHost|Component) "${name.replace(/\./g, "\\.")}"`, "m")));
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
    expect(hosts).toContain('Component "conference.example.org" "muc"\n    ssl = { certificate = "/le/archive/example.org/fullchain3.pem"');
  });

  it("should add the service modules to each VirtualHost on top of the image's list", () => {
    expect(render({}).hosts).toContain('    modules_enabled = { "websocket", "bosh", "http_altconnect", "appliance_web_client", "cloud_notify", "turn_external" }\n');
    expect(render({ XMPP_REGISTRATION: "invite" }).hosts).toContain(
      '    modules_enabled = { "websocket", "bosh", "http_altconnect", "appliance_web_client", "invites", "invites_register", "invites_adhoc", "invites_page", "invites_register_web", "register_apps", "http_libjs", "appliance_page_headers", "cloud_notify", "turn_external" }\n    webchat_url = "https://example.org:5281/"\n',
    );
    expect(render({ XMPP_HTTPS: "no", XMPP_PUSH: "no", XMPP_TURN: "off" }).hosts).not.toMatch(/^VirtualHost[^\n]*\n[^\n]*\n    modules_enabled/m);
    expect(render({ XMPP_HTTPS: "no", XMPP_PUSH: "no", XMPP_TURN: "off" }).hosts).toMatch(/^VirtualHost "example.org"\n    ssl = [^\n]*\n\n/m);
  });

  it("should leave out the components that are turned off", () => {
    const { hosts, certificateLinks } = render({ XMPP_MUC: "no", XMPP_UPLOAD: "no", XMPP_PROXY65: "no" });
    expect(hosts).not.toContain("Component");
    expect(certificateLinks.map((l) => l.name)).toEqual(["example.org", "example.net"]);
  });

  it("should give each domain its certificate for direct TLS with SNI too, through the certificate directory", () => {
    const { global, certificateLinks } = render({});
    expect(global).toContain('certificates = "/run/prosody-appliance/certs"');
    expect(certificateLinks.slice(0, 2)).toEqual([
      { name: "example.org", certPath: "/le/archive/example.org/fullchain3.pem", keyPath: "/le/archive/example.org/privkey3.pem" },
      { name: "conference.example.org", certPath: "/le/archive/example.org/fullchain3.pem", keyPath: "/le/archive/example.org/privkey3.pem" },
    ]);
    expect(certificateLinks.map((l) => l.name)).toEqual([
      "example.org", "conference.example.org", "upload.example.org", "proxy.example.org",
      "example.net", "conference.example.net", "upload.example.net", "proxy.example.net",
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

  it("should set each global option once, a service's value replacing the base one", () => {
    const { global } = render({ XMPP_PUBLIC_URL: "https://xmpp.example.org" });
    expect(global.match(/^http_default_host = /gm)).toHaveLength(1);
    expect(global).toContain('http_default_host = "xmpp.example.org"');
    expect(render({}).global).toContain('http_default_host = "example.org"');
  });

  it("should close port 5269 when federation is off", () => {
    expect(render({ XMPP_FEDERATION: "no" }).global).toContain("s2s_ports = {}\n");
    expect(render({}).global).not.toContain("s2s_ports");
  });

  it("should add s2s and dialback to the base config's modules_disabled when federation is off, not replace it", () => {
    const { global } = render({ XMPP_FEDERATION: "no" });
    // server/prosody.cfg.lua disables "posix"; an assignment here would enable it again.
    expect(global).not.toMatch(/^modules_disabled\s*=/m);
    expect(global).toContain('modules_disabled:append { "s2s", "dialback" }\n');
    expect(render({}).global).not.toContain("modules_disabled");
  });

  it("should fail loudly when a domain has no certificate", () => {
    expect(() =>
      renderConfig({ settings: loadSettings({ XMPP_DOMAINS: "example.com" }), ipv6: true, certificates }),
    ).toThrow("no certificate for the primary domain example.com");
    expect(() =>
      renderConfig({ settings: loadSettings({ XMPP_DOMAINS: "example.org", XMPP_MUC_SUBDOMAIN: "rooms" }), ipv6: true, certificates, turnSecret: TURN_SECRET }),
    ).toThrow("no certificate for rooms.example.org");
  });
});
