import type { Settings } from "../../settings.js";
import type { ServiceFragment } from "./service-fragment.js";

/** Accounts one IP address may create per hour with XMPP_REGISTRATION=open. */
export const OPEN_REGISTRATIONS_PER_IP_PER_HOUR = 3;

/**
 * closed: no in-band registration. invite: XEP-0401/0445 pre-auth tokens over XEP-0077, created
 * with `prosodyctl shell invite create_account` (single use, expiring). open: anyone, throttled
 * per IP address.
 */
export function registration(settings: Settings): ServiceFragment {
  switch (settings.registration) {
    case "closed":
      return { global: [["allow_registration", false]] };
    case "invite":
      return {
        global: [
          // invites_register loads register_ibr itself and admits only valid tokens.
          ["allow_registration", false],
          ["registration_invite_only", true],
        ],
        hostModules: ["invites", "invites_register", "invites_adhoc"],
      };
    case "open":
      return {
        global: [
          ["allow_registration", true],
          ["registration_throttle_max", OPEN_REGISTRATIONS_PER_IP_PER_HOUR],
          ["registration_throttle_period", 3_600],
        ],
      };
  }
}
