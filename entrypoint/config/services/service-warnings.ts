import type { Settings } from "../../settings.js";
import { builtinTurnsOffered } from "../turn-server-config.js";
import { OPEN_REGISTRATIONS_PER_IP_PER_HOUR } from "./registration.js";

const PRIVATE_OR_LOOPBACK = /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|::1$|f[cd][0-9a-f]{2}:|fe80:|localhost$)/i;

/** What the container can tell about its surroundings that decides a warning. */
export interface Surroundings {
  /** `--network host`: every port the servers bind is the host's, nothing needs publishing. */
  hostNetwork: boolean;
}

/**
 * Settings that parse but leave a service unable to work as a user expects: said at every
 * start, naming the variable and what to do, never a silent half-working service.
 */
export function serviceWarnings(settings: Settings, surroundings: Surroundings): string[] {
  const warnings: string[] = [];
  if (settings.upload && !settings.https) {
    warnings.push(
      "XMPP_UPLOAD=yes needs XMPP_HTTPS=yes (files are shared over HTTPS): file sharing is OFF. Set XMPP_HTTPS=yes, or XMPP_UPLOAD=no to silence this.",
    );
  }
  if (!settings.https && (settings.publicUrl !== "" || settings.trustedProxies.length > 0)) {
    warnings.push("XMPP_PUBLIC_URL and XMPP_TRUSTED_PROXIES apply to HTTPS, which XMPP_HTTPS=no turns off: they are ignored.");
  }
  if (settings.proxy65 && PRIVATE_OR_LOOPBACK.test(settings.proxy65Address)) {
    warnings.push(
      `XMPP_PROXY65_ADDRESS=${settings.proxy65Address} is a loopback or private address: clients outside that network cannot reach the file-transfer proxy and transfers through it will fail. Give the public name or address of this host.`,
    );
  }
  if (uploadQuotaBelowLimit(settings)) {
    warnings.push(
      `XMPP_UPLOAD_DAILY_QUOTA (${settings.uploadDailyQuota} bytes) is less than XMPP_UPLOAD_SIZE_LIMIT (${settings.uploadSizeLimit} bytes): files between the two sizes can never be shared.`,
    );
  }
  if (settings.https && settings.trustedProxies.length > 0 && settings.publicUrl === "") {
    warnings.push(
      "XMPP_TRUSTED_PROXIES is set but XMPP_PUBLIC_URL is not: web clients and uploads are given https://<name>:5281 URLs, not your proxy's. Set XMPP_PUBLIC_URL to the address the proxy serves.",
    );
  }
  if (settings.registration === "open") {
    warnings.push(
      `WARNING: XMPP_REGISTRATION=open: ANYONE can create accounts on ${settings.domains.join(", ")} (at most ${OPEN_REGISTRATIONS_PER_IP_PER_HOUR} per IP address per hour). Open servers attract spammers; XMPP_REGISTRATION=invite lets only people you invite in.`,
    );
  }
  warnings.push(...turnWarnings(settings), ...relayRangeWarnings(settings, surroundings));
  if (settings.turn === "builtin" && !builtinTurnsOffered(settings)) {
    warnings.push(
      "XMPP_TLS_PROFILE=modern: the built-in TURN server (coturn 4.6.1) speaks TLS 1.2 at most, so it offers no TURNS on 5349; calls use TURN over UDP and TCP on 3478.",
    );
  }
  return warnings;
}

/**
 * Docker publishes ports outside the container, so it cannot tell whether the relay range is: it
 * warns unless host networking (detected) or XMPP_TURN_RELAY_PUBLISHED=yes says it need not.
 */
function relayRangeWarnings(settings: Settings, { hostNetwork }: Surroundings): string[] {
  if (settings.turn !== "builtin" || hostNetwork || settings.turnRelayPublished) return [];
  const { first, last } = settings.turnRelayPorts;
  return [
    `TURN relay range ${first}-${last}/udp not known to be published: the container cannot see its published ports. Unless the host publishes them as the same numbers, relayed calls connect but carry no audio or video. Publish them with -p ${first}-${last}:${first}-${last}/udp (compose.yaml does) and set XMPP_TURN_RELAY_PUBLISHED=yes, or run with --network host.`,
  ];
}

function turnWarnings(settings: Settings): string[] {
  if (settings.turn === "off") {
    return [
      "XMPP_TURN=off: clients get no STUN/TURN server (XEP-0215), so audio and video calls fail whenever either side is behind NAT. Set XMPP_TURN=builtin (the default), or XMPP_TURN=external with XMPP_TURN_HOST and XMPP_TURN_SECRET.",
    ];
  }
  if (settings.turn !== "builtin") return [];
  if (settings.turnExternalIp === "") {
    return [
      "XMPP_TURN_EXTERNAL_IP is not set: the built-in TURN server gives clients relay addresses on the container's private network, so calls between clients outside it fail. Set XMPP_TURN_EXTERNAL_IP to this host's public IP address (and publish 3478, 5349 and XMPP_TURN_RELAY_PORTS).",
    ];
  }
  if (PRIVATE_OR_LOOPBACK.test(settings.turnExternalIp)) {
    return [
      `XMPP_TURN_EXTERNAL_IP=${settings.turnExternalIp} is a loopback or private address: only clients on that network can reach the relay, so calls from elsewhere fail. Set it to this host's public IP address.`,
    ];
  }
  return [];
}

function uploadQuotaBelowLimit(settings: Settings): boolean {
  return settings.upload && settings.https && settings.uploadDailyQuota < settings.uploadSizeLimit;
}
