import type { Settings } from "./settings.js";

/**
 * Every name Prosody serves a certificate for, the primary domain first. Each is found,
 * checked, linked for SNI, watched and verified on every listener. Today these are the
 * domains; a name that needs a certificate of its own (a component such as
 * conference.example.org) is added here.
 */
export function certificateNames(settings: Pick<Settings, "domains">): readonly string[] {
  return settings.domains;
}
