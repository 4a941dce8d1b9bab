import type { CertificateFiles } from "../certificates/check-certificate.js";
import type { Settings } from "../settings.js";
import { luaAssignments, luaString, luaValue, type LuaValue } from "./lua.js";
import { fileSharing } from "./services/file-sharing.js";
import { fileTransferProxy } from "./services/file-transfer-proxy.js";
import { groupChat } from "./services/group-chat.js";
import { registration } from "./services/registration.js";
import { serverInfo } from "./services/server-info.js";
import type { ComponentSection, ServiceFragment } from "./services/service-fragment.js";
import { webConnections } from "./services/web-connections.js";
import { calls } from "./services/calls.js";
import { invitePages } from "./services/invite-pages.js";
import { webClient } from "./services/web-client.js";
import { metrics } from "./services/metrics.js";
import { storage } from "./storage-config.js";

export interface ConfigInput {
  settings: Settings;
  /** Resolved from the XMPP_IPV6 setting (auto is decided before rendering). */
  ipv6: boolean;
  /** The certificate each name serves (certificateNames): one `.crt`/`.key` link each. */
  certificates: ReadonlyMap<string, CertificateFiles>;
  /** TURN's shared secret (XMPP_TURN_SECRET or the one kept in the data volume); absent with XMPP_TURN=off. */
  turnSecret?: string;
}

export interface RenderedConfig {
  /** Global settings, included before the user's conf.d. */
  global: string;
  /** VirtualHost sections, included after the user's conf.d so their globals stay global. */
  hosts: string;
  /** `<name>.crt`/`.key` links for Prosody's certificate directory, which it uses for SNI. */
  certificateLinks: Array<{ name: string } & CertificateFiles>;
}

/**
 * With only a host's `ssl` option, Prosody's SNI on direct TLS falls back to the primary's
 * certificate for every other domain (it looks names up in the certificate directory), and a
 * service-prefixed host option is flagged by `prosodyctl check config`.
 */
export const CERTIFICATE_LINKS_DIR = "/run/prosody-appliance/certs";

const HEADER = "-- Written by the prosody-appliance entrypoint at every start and certificate renewal; edits here are lost.\n";

function sslFor(files: CertificateFiles): LuaValue {
  return { certificate: files.certPath, key: files.keyPath };
}

/** Each capability's part of the configuration, in the order they are written. */
const SERVICES = [webConnections, webClient, registration, invitePages, serverInfo, groupChat, fileSharing, fileTransferProxy, metrics];

function filesFor(certificates: ReadonlyMap<string, CertificateFiles>, name: string): CertificateFiles {
  const files = certificates.get(name);
  if (!files) throw new Error(`no certificate for ${name}`);
  return files;
}

function indented(entries: Array<[string, LuaValue]>): string {
  return entries.map(([name, value]) => `    ${name} = ${luaValue(value)}\n`).join("");
}

function componentSection(component: ComponentSection, files: CertificateFiles): string {
  return `Component ${luaString(component.name)} ${luaString(component.module)}\n${indented([["ssl", sslFor(files)], ...component.options])}`;
}

/**
 * One assignment per option, where it first appears, with the value given last: a service may
 * override a base option (e.g. http_default_host), and Prosody warns about an option set twice.
 */
function lastWins(entries: Array<[string, LuaValue]>): Array<[string, LuaValue]> {
  const values = new Map<string, LuaValue>();
  for (const [name, value] of entries) values.set(name, value);
  return [...values];
}

/** The Prosody configuration that follows from the settings. Pure: same input, same text. */
export function renderConfig({ settings, ipv6, certificates, turnSecret }: ConfigInput): RenderedConfig {
  const primary = settings.domains[0]!;
  const primaryCertificate = certificates.get(primary);
  if (!primaryCertificate) throw new Error(`no certificate for the primary domain ${primary}`);

  const global: Array<[string, LuaValue]> = [
    ["log", [{ levels: { min: settings.logLevel }, to: "console" }]],
    ["admins", settings.admins],
    // Every Prosody listener (c2s, s2s, HTTPS) takes its TLS versions and ciphers from this profile.
    ["tls_profile", settings.tlsProfile],
    ["use_ipv6", ipv6],
    ["interfaces", ipv6 ? ["*", "::"] : ["*"]],
    // The default context serves clients that send no server name (SNI): the primary domain.
    ["ssl", sslFor(primaryCertificate)],
    // Prosody looks up SNI certificates for direct TLS in this directory, by name.
    ["certificates", CERTIFICATE_LINKS_DIR],
    // The health endpoint is asked for with Host: localhost; route that to the primary host.
    ["http_default_host", primary],
  ];
  // Appended, not assigned: the base config's own modules_disabled ("posix") must stay.
  const appended: Array<[string, string[]]> = [];
  if (!settings.federation) {
    global.push(["s2s_ports", []]);
    appended.push(["modules_disabled", ["s2s", "dialback"]]);
  }
  const fragments: ServiceFragment[] = [...SERVICES.map((service) => service(settings)), calls(settings, turnSecret), storage(settings)];
  for (const fragment of fragments) global.push(...(fragment.global ?? []));
  const hostModules = fragments.flatMap((f) => f.hostModules ?? []);
  const globalModules = fragments.flatMap((f) => f.globalModules ?? []);
  if (globalModules.length > 0) appended.push(["modules_enabled", globalModules]);

  const hosts = settings.domains.map((domain) => {
    const host: Array<[string, LuaValue]> = [["ssl", sslFor(filesFor(certificates, domain))]];
    // Added to the image's global modules_enabled, not replacing it.
    if (hostModules.length > 0) host.push(["modules_enabled", hostModules]);
    host.push(...fragments.flatMap((f) => f.hostOptions?.(domain) ?? []));
    const components = fragments.flatMap((f) => f.components?.(domain) ?? []);
    return [
      `VirtualHost ${luaString(domain)}\n${indented(host)}`,
      ...components.map((c) => componentSection(c, filesFor(certificates, c.name))),
    ].join("\n");
  });

  return {
    global: `${HEADER}${luaAssignments(lastWins(global))}\n${appended.map(([name, list]) => `${name}:append ${luaValue(list)}\n`).join("")}`,
    hosts: `${HEADER}${hosts.join("\n")}`,
    certificateLinks: [...certificates].map(([name, files]) => ({ name, ...files })),
  };
}
