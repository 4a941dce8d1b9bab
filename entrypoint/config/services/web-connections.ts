import { LISTENERS } from "../../listeners.js";
import type { Settings } from "../../settings.js";
import type { ServiceFragment } from "./service-fragment.js";

/**
 * HTTPS on 5281 for websocket, BOSH, host-meta and uploads; plain HTTP (5280) stays on
 * loopback for the health check. Prosody picks each name's certificate by SNI from the
 * certificate directory, like on the XMPP ports.
 */
export function webConnections(settings: Settings): ServiceFragment {
  if (!settings.https) return { global: [["https_ports", []]] };
  const global: ServiceFragment["global"] = [
    ["https_ports", [LISTENERS.https]],
    // Loopback stays trusted: the health check and a proxy on the host network.
    ["trusted_proxies", ["127.0.0.1", "::1", ...settings.trustedProxies]],
  ];
  if (settings.publicUrl !== "") {
    const host = new URL(settings.publicUrl).hostname;
    // Every service is reached under the one public name; Prosody routes requests by Host.
    global.push(["http_external_url", `${settings.publicUrl}/`], ["http_host", host], ["http_default_host", host]);
  }
  return { global, hostModules: ["websocket", "bosh", "http_altconnect"] };
}
