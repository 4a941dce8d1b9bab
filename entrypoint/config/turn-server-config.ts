import type { CertificateFiles } from "../certificates/check-certificate.js";
import { TURN_PORT, TURNS_PORT, type Settings } from "../settings.js";

/**
 * Peers the built-in TURN server never relays to unless XMPP_TURN_ALLOWED_PEERS says so:
 * loopback, private, shared (CGNAT), link-local and benchmarking ranges, "this network" and
 * unique-local/link-local IPv6, so a relay cannot reach this host's or its network's services.
 */
export const DENIED_PEER_RANGES = [
  "0.0.0.0-0.255.255.255",
  "10.0.0.0-10.255.255.255",
  "100.64.0.0-100.127.255.255",
  "127.0.0.0-127.255.255.255",
  "169.254.0.0-169.254.255.255",
  "172.16.0.0-172.31.255.255",
  "192.0.0.0-192.0.0.255",
  "192.168.0.0-192.168.255.255",
  "198.18.0.0-198.19.255.255",
  "::1",
  "::ffff:0.0.0.0-::ffff:255.255.255.255",
  "fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  "fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
];

/**
 * Mozilla's intermediate TLS 1.2 ciphers, ECDHE only (coturn is given no DH parameters): forward
 * secrecy and AEAD, as Prosody's `intermediate` profile. coturn's default list adds CBC ciphers.
 */
const INTERMEDIATE_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

/**
 * Whether the built-in TURN server offers TURNS on 5349. Debian trixie's coturn (4.6.1) speaks
 * TLS 1.2 at most, so under XMPP_TLS_PROFILE=modern (TLS 1.3 only) it offers no TLS at all.
 */
export function builtinTurnsOffered(settings: Pick<Settings, "turn" | "tlsProfile">): boolean {
  return settings.turn === "builtin" && settings.tlsProfile !== "modern";
}

export interface TurnServerConfigInput {
  settings: Settings;
  secret: string;
  /** The pair coturn serves on 5349 (its own copy of the primary domain's). */
  certificate: CertificateFiles;
  pidFile: string;
  /**
   * coturn's user database, unused with the shared secret but opened anyway: in its own
   * directory, so that coturn need not reach Debian's /var/lib/turn (not its uid's without root).
   */
  userDb: string;
}

/** coturn's configuration file: long-term credentials from the shared secret (TURN REST API). */
export function renderTurnServerConfig({ settings, secret, certificate, pidFile, userDb }: TurnServerConfigInput): string {
  const lines = [
    "# Written by the prosody-appliance entrypoint at every start; edits here are lost.",
    `listening-port=${TURN_PORT}`,
    `tls-listening-port=${TURNS_PORT}`,
    `min-port=${settings.turnRelayPorts.first}`,
    `max-port=${settings.turnRelayPorts.last}`,
    ...(settings.turnExternalIp === "" ? [] : [`external-ip=${settings.turnExternalIp}`]),
    `realm=${settings.domains[0]}`,
    "use-auth-secret",
    `static-auth-secret=${secret}`,
    `cert=${certificate.certPath}`,
    `pkey=${certificate.keyPath}`,
    ...(builtinTurnsOffered(settings) ? ["no-tlsv1", "no-tlsv1_1", `cipher-list=${INTERMEDIATE_CIPHERS}`] : ["no-tls"]),
    // TURNS is offered over TCP only (turn_external announces turns-tcp); 5349/udp stays closed.
    "no-dtls",
    "fingerprint",
    "no-cli",
    "no-software-attribute",
    "no-multicast-peers",
    ...DENIED_PEER_RANGES.map((range) => `denied-peer-ip=${range}`),
    ...settings.turnAllowedPeers.map((range) => `allowed-peer-ip=${range}`),
    "log-file=stdout",
    "simple-log",
    `pidfile=${pidFile}`,
    `userdb=${userDb}`,
  ];
  return `${lines.join("\n")}\n`;
}
