import { uploadActive } from "../../certificate-names.js";
import { LISTENERS } from "../../listeners.js";
import type { Settings } from "../../settings.js";
import type { LuaValue } from "../lua.js";
import type { ServiceFragment } from "./service-fragment.js";

export function webClientActive(settings: Settings): boolean {
  return settings.webClient && settings.https;
}

/** Where a domain's web client page is, as a user opens it. */
export function webClientUrl(settings: Settings, domain: string): string {
  const base = settings.publicUrl === "" ? `https://${domain}:${LISTENERS.https}` : settings.publicUrl;
  return `${base}${settings.webClientPath === "/" ? "/" : `${settings.webClientPath}/`}`;
}

/**
 * What the page may load: only this server. Uploads live on another origin
 * (https://upload.D:5281) unless everything is under XMPP_PUBLIC_URL. Lit and Converse's
 * templates set style attributes, and its OMEMO library compiles WebAssembly.
 */
export function webClientCsp(settings: Settings): string {
  const uploads = uploadActive(settings) && settings.publicUrl === "" ? settings.domains.map((d) => `https://${settings.uploadSubdomain}.${d}:${LISTENERS.https}`) : [];
  const self = (...more: string[]) => ["'self'", ...more, ...uploads].join(" ");
  return [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    `img-src ${self("data:", "blob:")}`,
    `media-src ${self("blob:")}`,
    "font-src 'self'",
    `connect-src ${self()}`,
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * Converse.js from the image on the HTTPS listener (server/modules/mod_appliance_web_client.lua),
 * each domain's page locked to that domain. Websocket and BOSH are given as paths: the page
 * resolves them against its own address, so a published port other than 5281 still works.
 */
export function webClient(settings: Settings): ServiceFragment {
  if (!webClientActive(settings)) return {};
  const base = settings.publicUrl === "" ? "" : new URL(settings.publicUrl).pathname.replace(/\/$/, "");
  const options: Record<string, LuaValue> = {
    view_mode: "fullscreen",
    websocket_url: `${base}/xmpp-websocket`,
    bosh_service_url: `${base}/http-bind`,
    discover_connection_methods: false,
    auto_reconnect: true,
    muc_nickname_from_jid: true,
    allow_registration: settings.registration === "open",
  };
  if (settings.muc) options.muc_subdomain = settings.mucSubdomain;
  // Under one public URL every domain shares one HTTP host: the page is the primary domain's.
  if (settings.publicUrl !== "") options.only_host = settings.domains[0]!;
  return {
    global: [
      ["http_paths", { appliance_web_client: settings.webClientPath }],
      ["appliance_web_client", options],
      ["appliance_web_client_csp", webClientCsp(settings)],
    ],
    hostModules: ["appliance_web_client"],
  };
}
