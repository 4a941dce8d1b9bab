import type { Settings } from "../../settings.js";
import type { ServiceFragment } from "./service-fragment.js";

/** XEP-0065 proxy: one port for every domain, each telling clients the address to reach it at. */
export function fileTransferProxy(settings: Settings): ServiceFragment {
  if (!settings.proxy65) return {};
  return {
    global: [["proxy65_ports", [settings.proxy65Port]]],
    components: (domain) => [
      {
        name: `${settings.proxy65Subdomain}.${domain}`,
        module: "proxy65",
        options: [
          ["name", `File transfer proxy for ${domain}`],
          ["proxy65_address", settings.proxy65Address === "" ? domain : settings.proxy65Address],
        ],
      },
    ],
  };
}
