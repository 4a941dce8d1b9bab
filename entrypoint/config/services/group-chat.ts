import type { Settings } from "../../settings.js";
import type { ServiceFragment } from "./service-fragment.js";

/** XEP-0045 rooms with their archive (muc_mam); room avatars and self-ping are built in. */
export function groupChat(settings: Settings): ServiceFragment {
  if (!settings.muc) return {};
  return {
    components: (domain) => [
      {
        name: `${settings.mucSubdomain}.${domain}`,
        module: "muc",
        options: [
          ["name", `Group chats on ${domain}`],
          ["modules_enabled", ["muc_mam"]],
          // Users of the parent domain (and admins) create rooms; anyone may join where allowed.
          ["restrict_room_creation", "local"],
          ["muc_room_default_persistent", true],
        ],
      },
    ],
  };
}
