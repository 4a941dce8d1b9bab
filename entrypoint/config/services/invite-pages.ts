import type { Settings } from "../../settings.js";
import type { LuaValue } from "../lua.js";
import type { ServiceFragment } from "./service-fragment.js";
import { webClientActive, webClientUrl } from "./web-client.js";

/** Apps the invite page suggests: logos from mod_register_apps' own assets, no badge fetched from a store. */
const APPS: LuaValue[] = [
  app("Conversations", "conversations.svg", ["Android"], "https://f-droid.org/packages/eu.siacs.conversations/", "Conversations is an XMPP app for Android phones."),
  app("Monal", "monal.svg", ["iOS", "macOS"], "https://apps.apple.com/app/monal-free-xmpp-chat/id317711500", "Monal is an XMPP app for iPhone, iPad and Mac."),
  app("Dino", "dino.svg", ["Linux"], "https://dino.im/", "Dino is a modern XMPP app for the Linux desktop."),
  app("Gajim", "gajim.svg", ["Windows", "Linux", "macOS"], "https://gajim.org/download/", "Gajim is a full-featured XMPP app for the desktop."),
];

function app(name: string, logo: string, platforms: string[], link: string, text: string): LuaValue {
  return {
    name,
    text,
    image: `assets/logos/${logo}`,
    link,
    platforms,
    supports_preauth_uri: true,
    download: { buttons: [{ text: `Get ${name}`, url: link, target: "_blank" }] },
  };
}

/**
 * With XMPP_REGISTRATION=invite and HTTPS, an invite is a web link (Debian prosody-modules'
 * invites_page): the friend picks an app, or registers in the browser (invites_register_web) and
 * then logs in to the web client. Bootstrap and jQuery for those pages come from Debian's libjs
 * packages through http_libjs; appliance_page_headers adds the security headers.
 */
export function invitePages(settings: Settings): ServiceFragment {
  if (settings.registration !== "invite" || !settings.https) return {};
  return {
    global: [["site_apps", APPS]],
    hostModules: ["invites_page", "invites_register_web", "register_apps", "http_libjs", "appliance_page_headers"],
    hostOptions: webClientActive(settings) ? (domain) => [["webchat_url", webClientUrl(settings, domain)]] : undefined,
  };
}
