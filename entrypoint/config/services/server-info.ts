import type { Settings } from "../../settings.js";
import type { ServiceFragment } from "./service-fragment.js";

/** Push (XEP-0357) and the server's contact addresses (XEP-0157). */
export function serverInfo(settings: Settings): ServiceFragment {
  const contactInfo: Record<string, string[]> = {};
  if (settings.contactAbuse.length > 0) contactInfo.abuse = settings.contactAbuse;
  if (settings.contactAdmin.length > 0) contactInfo.admin = settings.contactAdmin;
  if (settings.contactSupport.length > 0) contactInfo.support = settings.contactSupport;
  return {
    global: [["contact_info", contactInfo]],
    hostModules: settings.push ? ["cloud_notify"] : [],
  };
}
