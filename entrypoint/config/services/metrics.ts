import type { Settings } from "../../settings.js";
import type { ServiceFragment } from "./service-fragment.js";

/**
 * Prosody's OpenMetrics endpoint, on its loopback HTTP port only: the entrypoint's metrics
 * endpoint (XMPP_METRICS) asks it there and adds the appliance's own gauges. Statistics are
 * gathered when scraped ("manual"), so they cost nothing between scrapes.
 */
export function metrics(settings: Settings): ServiceFragment {
  if (settings.metrics === "off") return {};
  return {
    globalModules: ["http_openmetrics"],
    global: [
      ["statistics", "internal"],
      ["statistics_interval", "manual"],
      // The HTTPS port serves the same path: only loopback (the entrypoint) is answered there too.
      ["openmetrics_allow_ips", ["127.0.0.1", "::1"]],
    ],
  };
}
