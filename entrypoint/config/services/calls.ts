import { TURN_PORT, TURNS_PORT, type Settings } from "../../settings.js";
import { builtinTurnsOffered } from "../turn-server-config.js";
import type { ServiceFragment } from "./service-fragment.js";

/**
 * XEP-0215 through turn_external: each domain's clients get STUN, TURN (UDP and TCP) and TURNS
 * with credentials derived from the shared secret, valid for a day. The built-in server is
 * reached at the primary domain, whose certificate it serves on 5349.
 */
export function calls(settings: Settings, turnSecret: string | undefined): ServiceFragment {
  if (settings.turn === "off") return {};
  if (turnSecret === undefined || turnSecret === "") throw new Error("TURN is on but no shared secret was given to the config");
  const builtin = settings.turn === "builtin";
  const tlsPort = builtin ? (builtinTurnsOffered(settings) ? TURNS_PORT : undefined) : settings.turnTlsPort;
  return {
    global: [
      ["turn_external_secret", turnSecret],
      ["turn_external_host", builtin ? settings.domains[0]! : settings.turnHost],
      ["turn_external_port", builtin ? TURN_PORT : settings.turnPort],
      ["turn_external_tcp", true],
      ...(tlsPort === undefined ? [] : [["turn_external_tls_port", tlsPort] as [string, number]]),
    ],
    hostModules: ["turn_external"],
  };
}
