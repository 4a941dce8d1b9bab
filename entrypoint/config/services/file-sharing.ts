import type { Settings } from "../../settings.js";
import { uploadActive } from "../../certificate-names.js";
import type { LuaValue } from "../lua.js";
import type { ServiceFragment } from "./service-fragment.js";

/**
 * XEP-0363 through http_file_share, served on the HTTPS listener under the component's own
 * name (https://upload.D:5281/file_share/...), or under XMPP_PUBLIC_URL.
 */
export function fileSharing(settings: Settings): ServiceFragment {
  if (!uploadActive(settings)) return {};
  return {
    components: (domain) => {
      const name = `${settings.uploadSubdomain}.${domain}`;
      // Under one public URL every domain's uploads share a host name: one path each.
      const paths: Array<[string, LuaValue]> = settings.publicUrl === "" ? [] : [["http_paths", { file_share: `/file_share/${name}` }]];
      return [
        {
          name,
          module: "http_file_share",
          options: [
            ["name", `File sharing on ${domain}`],
            ["http_file_share_size_limit", settings.uploadSizeLimit],
            ["http_file_share_daily_quota", settings.uploadDailyQuota],
            ["http_file_share_expires_after", settings.uploadExpiresAfter],
            ...paths,
          ],
        },
      ];
    },
  };
}
