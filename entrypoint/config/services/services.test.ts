import { describe, expect, it } from "vitest";
import { loadSettings } from "../../settings.js";
import { fileSharing } from "./file-sharing.js";
import { fileTransferProxy } from "./file-transfer-proxy.js";
import { groupChat } from "./group-chat.js";
import { registration } from "./registration.js";
import { serverInfo } from "./server-info.js";
import { serviceWarnings } from "./service-warnings.js";
import { webConnections } from "./web-connections.js";
import { webClient, webClientCsp } from "./web-client.js";
import { invitePages } from "./invite-pages.js";

const settingsWith = (env: Record<string, string> = {}) => loadSettings({ XMPP_DOMAINS: "example.org", ...env });
/** For warnings about other services: TURN's own warnings left out. */
const quietTurn = { XMPP_TURN_EXTERNAL_IP: "203.0.113.7", XMPP_TURN_RELAY_PUBLISHED: "yes" };
const ON_A_DOCKER_NETWORK = { hostNetwork: false };
const warnings = (env: Record<string, string> = {}, surroundings = ON_A_DOCKER_NETWORK) => serviceWarnings(settingsWith(env), surroundings);
const RELAY_RANGE_WARNING =
  "TURN relay range 49160-49200/udp not known to be published: the container cannot see its published ports. Unless the host publishes them as the same numbers, relayed calls connect but carry no audio or video. Publish them with -p 49160-49200:49160-49200/udp (compose.yaml does) and set XMPP_TURN_RELAY_PUBLISHED=yes, or run with --network host.";

describe("group chat", () => {
  it("should give each domain a MUC with its archive, rooms created by its own users", () => {
    expect(groupChat(settingsWith()).components!("example.org")).toEqual([
      {
        name: "conference.example.org",
        module: "muc",
        options: [
          ["name", "Group chats on example.org"],
          ["modules_enabled", ["muc_mam"]],
          ["restrict_room_creation", "local"],
          ["muc_room_default_persistent", true],
        ],
      },
    ]);
    expect(groupChat(settingsWith({ XMPP_MUC_SUBDOMAIN: "groups" })).components!("example.net")[0]!.name).toBe("groups.example.net");
    expect(groupChat(settingsWith({ XMPP_MUC: "no" }))).toEqual({});
  });
});

describe("file sharing", () => {
  it("should pass the size limit, daily quota and expiry in bytes and seconds", () => {
    const [component] = fileSharing(settingsWith({ XMPP_UPLOAD_SIZE_LIMIT: "20M", XMPP_UPLOAD_DAILY_QUOTA: "1G", XMPP_UPLOAD_EXPIRES_AFTER: "30d" })).components!("example.org");
    expect(component).toEqual({
      name: "upload.example.org",
      module: "http_file_share",
      options: [
        ["name", "File sharing on example.org"],
        ["http_file_share_size_limit", 20 * 1024 * 1024],
        ["http_file_share_daily_quota", 1024 ** 3],
        ["http_file_share_expires_after", 30 * 86_400],
      ],
    });
  });

  it("should give each domain its own path under a public URL", () => {
    const [component] = fileSharing(settingsWith({ XMPP_PUBLIC_URL: "https://xmpp.example.org" })).components!("example.org");
    expect(component!.options).toContainEqual(["http_paths", { file_share: "/file_share/upload.example.org" }]);
  });

  it("should be off without HTTPS", () => {
    expect(fileSharing(settingsWith({ XMPP_HTTPS: "no" }))).toEqual({});
    expect(fileSharing(settingsWith({ XMPP_UPLOAD: "no" }))).toEqual({});
  });
});

describe("file transfer proxy", () => {
  it("should listen on one port and tell clients the domain, or the address set", () => {
    const proxy = fileTransferProxy(settingsWith());
    expect(proxy.global).toEqual([["proxy65_ports", [5000]]]);
    expect(proxy.components!("example.net")[0]!.options).toContainEqual(["proxy65_address", "example.net"]);
    const moved = fileTransferProxy(settingsWith({ XMPP_PROXY65_ADDRESS: "203.0.113.7", XMPP_PROXY65_PORT: "7777" }));
    expect(moved.global).toEqual([["proxy65_ports", [7777]]]);
    expect(moved.components!("example.net")[0]!.options).toContainEqual(["proxy65_address", "203.0.113.7"]);
    expect(fileTransferProxy(settingsWith({ XMPP_PROXY65: "no" }))).toEqual({});
  });
});

describe("web connections", () => {
  it("should open 5281 with websocket, BOSH and host-meta, trusting loopback and the proxies given", () => {
    expect(webConnections(settingsWith({ XMPP_TRUSTED_PROXIES: "172.18.0.0/16" }))).toEqual({
      global: [
        ["https_ports", [5281]],
        ["trusted_proxies", ["127.0.0.1", "::1", "172.18.0.0/16"]],
      ],
      hostModules: ["websocket", "bosh", "http_altconnect"],
    });
  });

  it("should advertise every service under the public URL and answer for its host", () => {
    expect(webConnections(settingsWith({ XMPP_PUBLIC_URL: "https://xmpp.example.org/chat/" })).global).toEqual(
      expect.arrayContaining([
        ["http_external_url", "https://xmpp.example.org/chat/"],
        ["http_host", "xmpp.example.org"],
        ["http_default_host", "xmpp.example.org"],
      ]),
    );
  });

  it("should close 5281 when HTTPS is off", () => {
    expect(webConnections(settingsWith({ XMPP_HTTPS: "no" }))).toEqual({ global: [["https_ports", []]] });
  });
});

describe("web client", () => {
  it("should serve Converse on every domain, with websocket and BOSH as paths and the room service named", () => {
    const fragment = webClient(settingsWith());
    expect(fragment.hostModules).toEqual(["appliance_web_client"]);
    expect(fragment.global).toContainEqual(["http_paths", { appliance_web_client: "/" }]);
    expect(fragment.global).toContainEqual([
      "appliance_web_client",
      expect.objectContaining({ websocket_url: "/xmpp-websocket", bosh_service_url: "/http-bind", muc_subdomain: "conference", allow_registration: false }),
    ]);
    const underPublicUrl = webClient(settingsWith({ XMPP_PUBLIC_URL: "https://chat.example.org/xmpp", XMPP_WEB_CLIENT_PATH: "/web" }));
    expect(underPublicUrl.global).toContainEqual(["http_paths", { appliance_web_client: "/web" }]);
    expect(underPublicUrl.global).toContainEqual(["appliance_web_client", expect.objectContaining({ websocket_url: "/xmpp/xmpp-websocket", only_host: "example.org" })]);
  });

  it("should allow only this server and its upload services in the CSP", () => {
    const csp = webClientCsp(settingsWith({ XMPP_DOMAINS: "example.org example.net" }));
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self' https://upload.example.org:5281 https://upload.example.net:5281");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(webClientCsp(settingsWith({ XMPP_PUBLIC_URL: "https://chat.example.org" }))).toContain("connect-src 'self';");
  });

  it("should be off when turned off or without HTTPS", () => {
    expect(webClient(settingsWith({ XMPP_WEB_CLIENT: "no" }))).toEqual({});
    expect(webClient(settingsWith({ XMPP_HTTPS: "no" }))).toEqual({});
  });

  it("should add the invite pages only to invite registration over HTTPS, pointing at the web client", () => {
    expect(invitePages(settingsWith())).toEqual({});
    expect(invitePages(settingsWith({ XMPP_REGISTRATION: "invite", XMPP_HTTPS: "no" }))).toEqual({});
    const pages = invitePages(settingsWith({ XMPP_REGISTRATION: "invite", XMPP_WEB_CLIENT_PATH: "/chat" }));
    expect(pages.hostModules).toContain("invites_page");
    expect(pages.hostOptions!("example.net")).toEqual([["webchat_url", "https://example.net:5281/chat/"]]);
    expect(invitePages(settingsWith({ XMPP_REGISTRATION: "invite", XMPP_WEB_CLIENT: "no" })).hostOptions).toBeUndefined();
  });
});

describe("registration", () => {
  it("should refuse in-band registration when closed", () => {
    expect(registration(settingsWith())).toEqual({ global: [["allow_registration", false]] });
  });

  it("should admit only invite tokens in invite mode", () => {
    expect(registration(settingsWith({ XMPP_REGISTRATION: "invite" }))).toEqual({
      global: [
        ["allow_registration", false],
        ["registration_invite_only", true],
      ],
      hostModules: ["invites", "invites_register", "invites_adhoc"],
    });
  });

  it("should throttle open registration per IP address", () => {
    expect(registration(settingsWith({ XMPP_REGISTRATION: "open" })).global).toEqual([
      ["allow_registration", true],
      ["registration_throttle_max", 3],
      ["registration_throttle_period", 3_600],
    ]);
  });
});

describe("server info", () => {
  it("should publish the contact addresses and turn push on", () => {
    expect(serverInfo(settingsWith({ XMPP_ADMINS: "alice@example.org", XMPP_CONTACT_ABUSE: "mailto:abuse@example.org" }))).toEqual({
      global: [["contact_info", { abuse: ["mailto:abuse@example.org"], admin: ["xmpp:alice@example.org"], support: ["xmpp:alice@example.org"] }]],
      hostModules: ["cloud_notify"],
    });
    expect(serverInfo(settingsWith({ XMPP_PUSH: "no" }))).toEqual({ global: [["contact_info", {}]], hostModules: [] });
  });
});

describe("service warnings", () => {
  it("should say nothing for the defaults once TURN's public address is set and its relay range published", () => {
    expect(warnings(quietTurn)).toEqual([]);
  });

  it("should say once, with the exact -p flags, that the relay range may not be published, unless a setting or host networking says it is", () => {
    expect(warnings({ XMPP_TURN_EXTERNAL_IP: "203.0.113.7" })).toEqual([RELAY_RANGE_WARNING]);
    expect(warnings({ XMPP_TURN_EXTERNAL_IP: "203.0.113.7", XMPP_TURN_RELAY_PORTS: "50000-50010" })).toEqual([
      RELAY_RANGE_WARNING.replaceAll("49160-49200", "50000-50010"),
    ]);
    expect(warnings({ XMPP_TURN_EXTERNAL_IP: "203.0.113.7" }, { hostNetwork: true })).toEqual([]);
    expect(warnings({ XMPP_TURN_EXTERNAL_IP: "203.0.113.7", XMPP_TURN_RELAY_PUBLISHED: "yes" })).toEqual([]);
    // Only the built-in server relays here.
    expect(warnings({ XMPP_TURN: "external", XMPP_TURN_HOST: "turn.example.org", XMPP_TURN_SECRET: "0123456789abcdefghij" })).toEqual([]);
    expect(warnings({ XMPP_TURN: "off" })).toHaveLength(1);
  });

  it("should say that relay addresses are private without XMPP_TURN_EXTERNAL_IP, and which setting fixes it", () => {
    expect(warnings({ XMPP_TURN_RELAY_PUBLISHED: "yes" })).toEqual([
      "XMPP_TURN_EXTERNAL_IP is not set: the built-in TURN server gives clients relay addresses on the container's private network, so calls between clients outside it fail. Set XMPP_TURN_EXTERNAL_IP to this host's public IP address (and publish 3478, 5349 and XMPP_TURN_RELAY_PORTS).",
    ]);
    expect(warnings({ XMPP_TURN_EXTERNAL_IP: "192.168.1.2", XMPP_TURN_RELAY_PUBLISHED: "yes" })).toEqual([
      "XMPP_TURN_EXTERNAL_IP=192.168.1.2 is a loopback or private address: only clients on that network can reach the relay, so calls from elsewhere fail. Set it to this host's public IP address.",
    ]);
    expect(warnings({ XMPP_TURN: "external", XMPP_TURN_HOST: "turn.example.org", XMPP_TURN_SECRET: "0123456789abcdefghij" })).toEqual([]);
  });

  it("should say that the built-in TURN server offers no TURNS under XMPP_TLS_PROFILE=modern", () => {
    expect(warnings({ XMPP_TURN_EXTERNAL_IP: "203.0.113.7", XMPP_TURN_RELAY_PUBLISHED: "yes", XMPP_TLS_PROFILE: "modern" })).toEqual([
      "XMPP_TLS_PROFILE=modern: the built-in TURN server (coturn 4.6.1) speaks TLS 1.2 at most, so it offers no TURNS on 5349; calls use TURN over UDP and TCP on 3478.",
    ]);
  });

  it("should say that calls fail behind NAT with TURN off", () => {
    expect(warnings({ XMPP_TURN: "off" })).toEqual([
      "XMPP_TURN=off: clients get no STUN/TURN server (XEP-0215), so audio and video calls fail whenever either side is behind NAT. Set XMPP_TURN=builtin (the default), or XMPP_TURN=external with XMPP_TURN_HOST and XMPP_TURN_SECRET.",
    ]);
  });

  it("should say that file sharing is off without HTTPS", () => {
    expect(warnings({ ...quietTurn, XMPP_HTTPS: "no" })).toEqual([
      "XMPP_UPLOAD=yes needs XMPP_HTTPS=yes (files are shared over HTTPS): file sharing is OFF. Set XMPP_HTTPS=yes, or XMPP_UPLOAD=no to silence this.",
    ]);
  });

  it("should say that the public URL and proxies are ignored without HTTPS", () => {
    expect(warnings({ ...quietTurn, XMPP_HTTPS: "no", XMPP_UPLOAD: "no", XMPP_PUBLIC_URL: "https://xmpp.example.org" })).toEqual([
      "XMPP_PUBLIC_URL and XMPP_TRUSTED_PROXIES apply to HTTPS, which XMPP_HTTPS=no turns off: they are ignored.",
    ]);
  });

  it.each(["127.0.0.1", "192.168.1.10", "172.17.0.2", "localhost"])("should warn that clients cannot reach the proxy at %s", (address) => {
    expect(warnings({ ...quietTurn, XMPP_PROXY65_ADDRESS: address })).toEqual([
      `XMPP_PROXY65_ADDRESS=${address} is a loopback or private address: clients outside that network cannot reach the file-transfer proxy and transfers through it will fail. Give the public name or address of this host.`,
    ]);
  });

  it("should warn about a daily quota below the size limit, and proxies without a public URL", () => {
    expect(warnings({ XMPP_UPLOAD_DAILY_QUOTA: "10M" })[0]).toContain("XMPP_UPLOAD_DAILY_QUOTA (10485760 bytes) is less than XMPP_UPLOAD_SIZE_LIMIT (104857600 bytes)");
    expect(warnings({ XMPP_TRUSTED_PROXIES: "10.0.0.1" })[0]).toContain("XMPP_TRUSTED_PROXIES is set but XMPP_PUBLIC_URL is not");
  });

  it("should warn loudly about open registration", () => {
    expect(warnings({ ...quietTurn, XMPP_REGISTRATION: "open" })).toEqual([
      "WARNING: XMPP_REGISTRATION=open: ANYONE can create accounts on example.org (at most 3 per IP address per hour). Open servers attract spammers; XMPP_REGISTRATION=invite lets only people you invite in.",
    ]);
  });
});
