import { ConfigError } from "./errors.js";
import type { LogLevel } from "./log.js";
import { isIP as isIp } from "node:net";
import { closestMatch } from "./closest-match.js";
import { readRegularFile, RefusedFile } from "./read-regular-file.js";

/** What a variable's parser reports when a value is not accepted. */
export class InvalidValue extends Error {}

interface SettingDefinition<T> {
  env: string;
  /** Used when the variable is unset; `undefined` makes the variable required. */
  default: string | undefined;
  /** Shown in errors and in the README: what values are accepted. */
  accepted: string;
  description: string;
  example: string;
  /** A password or similar: never echoed in an error. */
  secret?: boolean;
  /** Longest value accepted (default MAX_VALUE_LENGTH); longer ones are refused unread and unechoed. */
  maxLength?: number;
  parse(raw: string, earlier: Earlier): T;
}

/**
 * The settings parsed before this one (in table order) that a parser may look at. Written out
 * rather than derived from Settings, which is itself derived from the parsers.
 */
interface Earlier {
  domains?: string[];
  admins?: string[];
  adminPassword?: string;
  mucSubdomain?: string;
  uploadSubdomain?: string;
  turn?: TurnMode;
  proxy65Port?: number;
  storage?: StorageKind;
}

export type TurnMode = "builtin" | "external" | "off";
export type StorageKind = "internal" | "sqlite" | "postgres";
/** libpq's sslmode values offered: the ones that make sense for a server's own database. */
export type DatabaseTls = "disable" | "prefer" | "require" | "verify-full";

function define<T>(definition: SettingDefinition<T>): SettingDefinition<T> {
  return definition;
}

const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function parseDomainName(raw: string): string {
  const name = raw.trim().toLowerCase().replace(/\.$/, "");
  if (name.length === 0) throw new InvalidValue("empty domain name");
  if (name.length > 253) throw new InvalidValue(`"${raw}" is longer than 253 characters`);
  if (/^[0-9.]+$/.test(name) || name.includes(":")) {
    throw new InvalidValue(`"${raw}" is an IP address, not a domain name`);
  }
  const bad = name.split(".").find((label) => !DOMAIN_LABEL.test(label));
  if (bad !== undefined) throw new InvalidValue(`"${raw}" is not a valid domain name`);
  return name;
}

function splitList(raw: string): string[] {
  return raw.split(/[\s,]+/).filter((item) => item.length > 0);
}

function parseDomains(raw: string): string[] {
  const domains = splitList(raw).map(parseDomainName);
  if (domains.length === 0) throw new InvalidValue("no domain given");
  return [...new Set(domains)];
}

function parseJid(raw: string): string {
  const at = raw.indexOf("@");
  if (at <= 0 || raw.includes("/") || /\s/.test(raw)) {
    throw new InvalidValue(`"${raw}" is not a bare JID like alice@example.org`);
  }
  const local = raw.slice(0, at);
  if (/["&'/:<>@]/.test(local)) throw new InvalidValue(`"${raw}" has a character not allowed before the @`);
  return `${local.toLowerCase()}@${parseDomainName(raw.slice(at + 1))}`;
}

function parseEnum<const T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    const value = raw.trim().toLowerCase();
    if ((values as readonly string[]).includes(value)) return value as T;
    throw new InvalidValue(`"${raw}" is not one of them`);
  };
}

const TRUE_WORDS = ["true", "yes", "on", "1"];
const FALSE_WORDS = ["false", "no", "off", "0"];

function parseBoolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (TRUE_WORDS.includes(value)) return true;
  if (FALSE_WORDS.includes(value)) return false;
  throw new InvalidValue(`"${raw}" is not a yes/no value`);
}

function parseAbsolutePath(raw: string): string {
  const value = raw.trim();
  if (!value.startsWith("/")) throw new InvalidValue(`"${raw}" is not an absolute path`);
  // Node refuses a path with a NUL only when it is used (an unexpected failure, not exit 78).
  if (CONTROL_CHARACTER.test(value)) throw new InvalidValue("it has a line break, a NUL or another control character");
  return value.replace(/(.)\/+$/, "$1");
}

function parseGid(raw: string): "auto" | number {
  const value = raw.trim().toLowerCase();
  if (value === "auto") return "auto";
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 2147483647) {
    throw new InvalidValue(`"${raw}" is not a group id`);
  }
  return Number(value);
}

/** An account to create at first start; the password is a secret and is never logged. */
export interface FirstRunAccount {
  jid: string;
  password: string;
}

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Control characters (line breaks included) cannot be typed at a login prompt. */
function checkPassword(password: string): string {
  if (CONTROL_CHARACTER.test(password)) throw new InvalidValue("the password has a line break or another control character");
  return password;
}

function hostedDomainOf(jid: string, domains: readonly string[] | undefined): boolean {
  return domains === undefined || domains.includes(jid.slice(jid.indexOf("@") + 1));
}

/** The first of XMPP_ADMINS gets the password: a password with no account to give it to is a mistake. */
function parseAdminPassword(raw: string, settings: Earlier): string {
  if (raw === "") return "";
  checkPassword(raw);
  if (settings.admins === undefined) return raw; // XMPP_ADMINS is wrong itself and reported as such
  const admin = settings.admins[0];
  if (admin === undefined) throw new InvalidValue("XMPP_ADMINS is empty, so there is no admin account to create with it");
  if (!hostedDomainOf(admin, settings.domains)) {
    throw new InvalidValue(`the account it is for, ${admin} (the first of XMPP_ADMINS), is not on a domain in XMPP_DOMAINS`);
  }
  return raw;
}

/** `user@domain password` per line; blank lines and `#` comments are skipped. Errors name the line, never the password. */
function parseAccounts(raw: string, settings: Earlier): FirstRunAccount[] {
  const accounts = new Map<string, FirstRunAccount>();
  raw.split("\n").forEach((text, index) => {
    const line = text.trim();
    if (line === "" || line.startsWith("#")) return;
    const where = `line ${index + 1}`;
    const match = /^(\S+)\s+(\S.*)$/.exec(line);
    if (!match) throw new InvalidValue(`${where} is not "user@domain password"`);
    let jid: string;
    try {
      jid = parseJid(match[1]!);
    } catch (error) {
      throw new InvalidValue(`${where}: ${(error as Error).message}`);
    }
    if (!hostedDomainOf(jid, settings.domains)) throw new InvalidValue(`${where}: ${jid} is not on a domain in XMPP_DOMAINS`);
    if (accounts.has(jid)) throw new InvalidValue(`${where}: ${jid} is listed twice`);
    if (settings.adminPassword && jid === settings.admins?.[0]) {
      throw new InvalidValue(`${where}: ${jid} is created with XMPP_ADMIN_PASSWORD already`);
    }
    try {
      accounts.set(jid, { jid, password: checkPassword(match[2]!) });
    } catch (error) {
      throw new InvalidValue(`${where} (${jid}): ${(error as Error).message}`);
    }
  });
  return [...accounts.values()];
}

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

function parseDuration(raw: string): number {
  const match = /^\s*(\d+)\s*([smh])\s*$/i.exec(raw);
  if (!match) throw new InvalidValue(`"${raw}" is not a duration`);
  const ms = Number(match[1]) * DURATION_UNITS[match[2]!.toLowerCase()]!;
  if (ms < 10_000 || ms > 86_400_000) throw new InvalidValue(`"${raw}" is outside 10s..24h`);
  return ms;
}

/**
 * One DNS label put in front of each domain, e.g. `conference` -> conference.example.org. One
 * label only: Prosody links a component to the host one label up (disco items, "local" users).
 */
function parseSubdomain(raw: string): string {
  const value = raw.trim().toLowerCase();
  if (value.length === 0) throw new InvalidValue("empty name");
  if (!DOMAIN_LABEL.test(value)) throw new InvalidValue(`"${raw}" is not a single DNS label`);
  return value;
}

/** A component's subdomain that must not name the same host as another service or a hosted domain. */
function distinctSubdomain(others: Array<[string, (s: Earlier) => string | undefined]>) {
  return (raw: string, settings: Earlier): string => {
    const value = parseSubdomain(raw);
    for (const [variable, of] of others) {
      if (of(settings) === value) throw new InvalidValue(`"${raw}" is already the name of ${variable}`);
    }
    const clash = (settings.domains ?? []).find((domain: string) => settings.domains!.includes(`${value}.${domain}`));
    if (clash !== undefined) throw new InvalidValue(`${value}.${clash} is also in XMPP_DOMAINS`);
    return value;
  };
}

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Bytes from `512K`, `10M`, `1G` (binary units, as Prosody shows them) or a plain byte count. */
function parseSize(raw: string): number {
  const match = /^\s*(\d+)\s*([kmg]?)(?:i?b)?\s*$/i.exec(raw);
  if (!match) throw new InvalidValue(`"${raw}" is not a size`);
  const bytes = Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!;
  if (bytes < 1024) throw new InvalidValue(`"${raw}" is less than 1K`);
  if (bytes > 1024 ** 4) throw new InvalidValue(`"${raw}" is more than 1024G`);
  return bytes;
}

const PERIOD_UNITS: Record<string, number> = { h: 3_600, d: 86_400, w: 604_800 };

/** Seconds from `12h`, `30d`, `1w`. */
function parsePeriod(raw: string): number {
  const match = /^\s*(\d+)\s*([hdw])\s*$/i.exec(raw);
  if (!match) throw new InvalidValue(`"${raw}" is not a period`);
  const seconds = Number(match[1]) * PERIOD_UNITS[match[2]!.toLowerCase()]!;
  if (seconds < 3_600 || seconds > 366 * 86_400) throw new InvalidValue(`"${raw}" is outside 1h..52w`);
  return seconds;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function isIpAddress(value: string): boolean {
  return IPV4.test(value) || (value.includes(":") && /^[0-9a-f:.]+$/i.test(value) && value.split("::").length <= 2);
}

/** A host name or IP address that clients connect to. */
function parseHostOrIp(raw: string): string {
  const value = raw.trim().toLowerCase();
  if (value === "") return "";
  if (isIpAddress(value)) return value;
  try {
    return parseDomainName(value.replace(/^\[|\]$/g, ""));
  } catch {
    throw new InvalidValue(`"${raw}" is not a host name or IP address`);
  }
}

/** Ports the appliance already listens on, which a service must not take (3478, 5349: TURN). */
const TAKEN_PORTS = [5222, 5223, 5269, 5280, 5281, 3478, 5349];

/** The built-in TURN server's ports, the same inside the container and as clients are told. */
export const TURN_PORT = 3478;
export const TURNS_PORT = 5349;

function parsePort(raw: string): number {
  const value = raw.trim();
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new InvalidValue(`"${raw}" is not a port number`);
  if (TAKEN_PORTS.includes(Number(value))) throw new InvalidValue(`${value} is already used by another service`);
  return Number(value);
}

/** UDP ports the built-in TURN server relays media on, `first-last`. */
function parsePortRange(raw: string): { first: number; last: number } {
  const match = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(raw);
  if (!match) throw new InvalidValue(`"${raw}" is not a port range like 49160-49200`);
  const [first, last] = [Number(match[1]), Number(match[2])];
  if (first < 1024 || last > 65535) throw new InvalidValue(`"${raw}" is outside 1024..65535`);
  if (first > last) throw new InvalidValue(`${first} is above ${last}`);
  const taken = TAKEN_PORTS.find((port) => port >= first && port <= last);
  if (taken !== undefined) throw new InvalidValue(`${taken} is already used by another service`);
  return { first, last };
}

/** An IPv4 or IPv6 address (no name, no range). */
function parseIpAddress(raw: string): string {
  const value = raw.trim().toLowerCase();
  if (value === "") return "";
  if (!isIpAddress(value)) throw new InvalidValue(`"${raw}" is not an IP address`);
  return value;
}

/** The shared secret of TURN's REST credentials; empty: generated (built-in) or required (external). */
function parseTurnSecret(raw: string, settings: Earlier): string {
  const value = raw.trim();
  if (value === "") {
    if (settings.turn === "external") throw new InvalidValue("it is required with XMPP_TURN=external (the secret your TURN server is configured with)");
    return "";
  }
  if (!/^[\x21-\x7e]+$/.test(value)) throw new InvalidValue("it has a space or a character that is not printable ASCII");
  if (value.length < 16) throw new InvalidValue(`it has ${value.length} characters, fewer than 16`);
  return value;
}

/** Where clients reach an external TURN server; the built-in one is reached at the primary domain. */
function parseTurnHost(raw: string, settings: Earlier): string {
  const value = parseHostOrIp(raw);
  if (value === "" && settings.turn === "external") throw new InvalidValue("it is required with XMPP_TURN=external");
  if (value !== "" && settings.turn !== "external") throw new InvalidValue("it is only used with XMPP_TURN=external (the built-in server is reached at the primary domain)");
  return value;
}

/** Any port number: an external TURN server's ports are not this container's. */
function parseAnyPort(raw: string): number {
  const value = raw.trim();
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new InvalidValue(`"${raw}" is not a port number`);
  return Number(value);
}

function parseOptionalPort(raw: string): number | undefined {
  return ["none", "no", "off"].includes(raw.trim().toLowerCase()) ? undefined : parseAnyPort(raw);
}

function ipv4ToNumber(address: string): number {
  return address.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** Peer addresses TURN may relay to despite the private-range deny list: coturn's `first-last` form. */
function parsePeerRanges(raw: string): string[] {
  return [
    ...new Set(
      splitList(raw).map((item) => {
        const [address, bits, extra] = item.split("/");
        if (extra === undefined && address !== undefined && isIpAddress(address.toLowerCase())) {
          if (bits === undefined) return address.toLowerCase();
          if (IPV4.test(address) && /^\d+$/.test(bits) && Number(bits) <= 32) {
            const size = 2 ** (32 - Number(bits));
            const first = Math.floor(ipv4ToNumber(address) / size) * size;
            return `${numberToIpv4(first)}-${numberToIpv4(first + size - 1)}`;
          }
        }
        throw new InvalidValue(`"${item}" is not an IP address or IPv4 CIDR range`);
      }),
    ),
  ];
}

/** Where the metrics endpoint listens: an address of this container and a port, said explicitly. */
export type MetricsListen = "off" | { host: string; port: number };

function parseMetricsListen(raw: string, settings: Earlier): MetricsListen {
  const value = raw.trim().toLowerCase();
  if (["off", "no", "false", "0", ""].includes(value)) return "off";
  const match = /^(?:\[([0-9a-f:.]+)\]|([0-9.]+)):(\d+)$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  if (!match || host === undefined || !isIp(host) || (match[1] !== undefined) !== (isIp(host) === 6)) {
    throw new InvalidValue(`"${raw}" is not an address and port like 127.0.0.1:9100, 0.0.0.0:9100 or [::]:9100`);
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new InvalidValue(`${match[3]} is not a port number`);
  if ([...TAKEN_PORTS, settings.proxy65Port].includes(port)) throw new InvalidValue(`${port} is already used by another service`);
  return { host, port };
}

/** Who may scrape: addresses or CIDR ranges, IPv4 or IPv6; empty: whoever reaches the address. */
function parseCidrList(raw: string): string[] {
  return [
    ...new Set(
      splitList(raw).map((item) => {
        const [address = "", bits, extra] = item.toLowerCase().split("/");
        const family = isIp(address);
        const maxBits = family === 6 ? 128 : 32;
        if (family !== 0 && extra === undefined && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits))) {
          return `${address}/${bits ?? maxBits}`;
        }
        throw new InvalidValue(`"${item}" is not an IP address or CIDR range (IPv4 or IPv6)`);
      }),
    ),
  ];
}

const CONTACT_URI = /^(xmpp|mailto|https?):[^\s,]+$/i;

/** XEP-0157 addresses; empty means the admins' xmpp: URIs. */
function parseContactUris(raw: string, settings: Earlier): string[] {
  const uris = splitList(raw);
  const bad = uris.find((uri) => !CONTACT_URI.test(uri));
  if (bad !== undefined) throw new InvalidValue(`"${bad}" is not an xmpp:, mailto: or https: URI`);
  return uris.length > 0 ? [...new Set(uris)] : (settings.admins ?? []).map((jid) => `xmpp:${jid}`);
}

/** The base URL clients reach the HTTPS services at, without a trailing slash; "" when not set. */
function parsePublicUrl(raw: string): string {
  const value = raw.trim();
  if (value === "") return "";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidValue(`"${raw}" is not a URL`);
  }
  if (url.protocol !== "https:") throw new InvalidValue(`"${raw}" is not an https:// URL`);
  if (url.search || url.hash || url.username || url.password) throw new InvalidValue(`"${raw}" has more than a host, port and path`);
  parseHostOrIp(url.hostname);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** Paths on 5281 that Prosody's own services answer: the web client may not take them. */
export const RESERVED_HTTP_PATHS = ["/xmpp-websocket", "/http-bind", "/.well-known", "/file_share", "/invites_page", "/register", "/register_apps", "/share"];

/** A URL path on the HTTPS listener, without a trailing slash except for "/" itself. */
function parseWebPath(raw: string): string {
  const value = raw.trim().replace(/(.)\/+$/, "$1");
  if (!/^\/[A-Za-z0-9._\/-]*$/.test(value) || value.split("/").some((part) => part === "." || part === "..") || value.includes("//")) {
    throw new InvalidValue(`"${raw}" is not an absolute URL path`);
  }
  const taken = RESERVED_HTTP_PATHS.find((path) => value === path || value.startsWith(`${path}/`));
  if (taken !== undefined) throw new InvalidValue(`"${raw}" is taken by ${taken}`);
  return value;
}

/** IP addresses or CIDR ranges of reverse proxies. */
function parseProxies(raw: string): string[] {
  const proxies = splitList(raw);
  for (const proxy of proxies) {
    const [address, bits, extra] = proxy.split("/");
    const maxBits = address !== undefined && IPV4.test(address) ? 32 : 128;
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (extra !== undefined || address === undefined || !isIpAddress(address) || !bitsOk) {
      throw new InvalidValue(`"${proxy}" is not an IP address or CIDR range`);
    }
  }
  return [...new Set(proxies)];
}

/** A PostgreSQL setting that means nothing with another XMPP_STORAGE: set anyway, it is a mistake. */
function postgresOnly<T>(parse: (raw: string) => T, required: boolean) {
  return (raw: string, settings: Earlier): T | "" => {
    if (settings.storage !== "postgres") {
      if (raw.trim() !== "") throw new InvalidValue(`it is only used with XMPP_STORAGE=postgres (XMPP_STORAGE is ${settings.storage ?? "invalid"})`);
      return "";
    }
    if (raw.trim() === "" && required) throw new InvalidValue("it is required with XMPP_STORAGE=postgres");
    return parse(raw);
  };
}

/** Database, role names: what needs no quoting anywhere (Lua, libpq's conninfo, SQL). */
function parseSqlName(raw: string): string {
  const value = raw.trim();
  if (!/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/.test(value)) throw new InvalidValue(`"${raw}" is not a name of letters, digits, _, $ or - (at most 63, not starting with a digit)`);
  return value;
}

function parseDatabasePassword(raw: string): string {
  return checkPassword(raw);
}

/** Every setting the image reads, in README order. The single source of truth. */
export const SETTINGS = {
  domains: define({
    env: "XMPP_DOMAINS",
    default: undefined,
    accepted: "one or more domain names separated by commas or spaces",
    description:
      "Domains this server hosts, one `VirtualHost` each. The first is the primary domain: its certificate is the one clients get when they send no server name.",
    example: "example.org,example.net",
    parse: parseDomains,
  }),
  admins: define({
    env: "XMPP_ADMINS",
    default: "",
    accepted: "bare JIDs (user@domain) separated by commas or spaces, or empty",
    description: "Accounts with the admin role on every domain (Prosody's `admins`).",
    example: "alice@example.org",
    parse: (raw: string) => [...new Set(splitList(raw).map(parseJid))],
  }),
  adminPassword: define({
    env: "XMPP_ADMIN_PASSWORD",
    default: "",
    secret: true,
    accepted: "a password for the first account in XMPP_ADMINS (on a domain in XMPP_DOMAINS), best given as XMPP_ADMIN_PASSWORD_FILE, or empty",
    description:
      "Creates the first account in `XMPP_ADMINS` with this password if it does not exist. Each account is created once, at the first start that lists it; an account that exists is never changed (its password stays yours to change with `prosodyctl passwd`). Never logged.",
    example: "correct-horse-battery-staple",
    parse: parseAdminPassword,
  }),
  accounts: define({
    env: "XMPP_ACCOUNTS",
    default: "",
    secret: true,
    accepted: "lines of `user@domain password` (a domain in XMPP_DOMAINS; the password is the rest of the line); blank lines and lines starting with # are skipped",
    maxLength: 1024 * 1024,
    description:
      "More accounts to create, same rule as `XMPP_ADMIN_PASSWORD`: each once, if it does not exist, never changed afterwards. Usually a secret file: `XMPP_ACCOUNTS_FILE=/run/secrets/xmpp-accounts`.",
    example: "bob@example.org hunter2",
    parse: parseAccounts,
  }),
  logLevel: define({
    env: "XMPP_LOG_LEVEL",
    default: "info",
    accepted: "debug, info, warn or error",
    description: "Least severe level logged by Prosody and the entrypoint (to stdout/stderr).",
    example: "debug",
    parse: parseEnum<LogLevel>(["debug", "info", "warn", "error"]),
  }),
  ipv6: define({
    env: "XMPP_IPV6",
    default: "auto",
    accepted: "auto, or yes/no (true/false, on/off, 1/0)",
    description:
      "Listen and connect over IPv6. `auto` listens on IPv6 only when the container can bind an IPv6 socket, so Prosody never logs 'Address family not supported by protocol'.",
    example: "no",
    parse: (raw: string): "auto" | boolean => (raw.trim().toLowerCase() === "auto" ? "auto" : parseBoolean(raw)),
  }),
  federation: define({
    env: "XMPP_FEDERATION",
    default: "yes",
    accepted: "yes/no (true/false, on/off, 1/0)",
    description:
      "Talk to other XMPP servers on port 5269 (server-to-server), with TLS and authenticated certificates required.",
    example: "no",
    parse: parseBoolean,
  }),
  tlsProfile: define({
    env: "XMPP_TLS_PROFILE",
    default: "intermediate",
    accepted: "intermediate or modern",
    description:
      "TLS on every listener (5222, 5223, 5269, 5281 and the built-in TURN server's 5349), after Mozilla's profiles. `intermediate`: TLS 1.2 and 1.3, only ciphers with forward secrecy and authenticated encryption (AEAD). `modern`: TLS 1.3 only, for sites whose clients all speak it; the built-in TURN server (coturn 4.6.1, TLS 1.2 at most) then offers no TURNS on 5349, and calls use TURN over UDP and TCP.",
    example: "modern",
    parse: parseEnum(["intermediate", "modern"] as const),
  }),
  certsDir: define({
    env: "XMPP_CERTS_DIR",
    default: "/etc/letsencrypt",
    accepted: "an absolute path inside the container",
    description:
      "Where certificates are found: certbot's `/etc/letsencrypt` (its `live/` lineages), a plain directory of `<name>.crt`/`<name>.key` or `<name>/fullchain.pem`+`privkey.pem`, or Kubernetes TLS Secrets (`tls.crt`+`tls.key`) mounted as directories, here or in subdirectories (never with `subPath`: kubelet updates only whole-directory mounts). Names no certificate covers get a self-signed one kept in the data volume.",
    example: "/certs",
    parse: parseAbsolutePath,
  }),
  certsGid: define({
    env: "XMPP_CERTS_GID",
    default: "auto",
    accepted: "auto, or a numeric group id",
    description:
      "The group that may read the mounted private keys (the HOWTOs' `certs` group); Prosody runs with it. `auto` takes the group owning the keys, or 990 when they are root's, and never changes the mount: keys Prosody cannot read are copied to a private tmpfs. A gid set here also allows certbot's group fix on a writable mount (dirs 0750, keys 0640, that group only), which certbot keeps on renewal.",
    example: "1001",
    parse: parseGid,
  }),
  certsPolling: define({
    env: "XMPP_CERTS_POLLING",
    default: "no",
    accepted: "yes/no (true/false, on/off, 1/0)",
    description:
      "Poll the certificate directory every second instead of relying on inotify; turn on for Docker Desktop, WSL2 or NFS bind mounts, where change events may never arrive.",
    example: "yes",
    parse: parseBoolean,
  }),
  certsRecheckInterval: define({
    env: "XMPP_CERTS_RECHECK_INTERVAL",
    default: "5m",
    accepted: "a duration from 10s to 24h, like 30s, 5m or 1h",
    description:
      "How often certificates are checked again even without a change event: catches missed events, repeats self-signed and expiry warnings (30, 14 and 7 days before).",
    example: "1m",
    parse: parseDuration,
  }),
  muc: define({
    env: "XMPP_MUC",
    default: "yes",
    accepted: "yes/no (true/false, on/off, 1/0)",
    description:
      "Group chats (XEP-0045) at `conference.<domain>` for every domain: persistent rooms with their history (MUC archive), room avatars and self-ping; only the domain's own users create rooms.",
    example: "no",
    parse: parseBoolean,
  }),
  mucSubdomain: define({
    env: "XMPP_MUC_SUBDOMAIN",
    default: "conference",
    accepted: "one DNS label (letters, digits, hyphens), different from the other services' subdomains",
    description: "The group chat service's name is `<this>.<domain>`.",
    example: "groups",
    parse: distinctSubdomain([]),
  }),
  upload: define({
    env: "XMPP_UPLOAD",
    default: "yes",
    accepted: "yes/no (true/false, on/off, 1/0)",
    description:
      "File sharing (XEP-0363 HTTP upload) at `upload.<domain>` for every domain, served over HTTPS on 5281 (needs `XMPP_HTTPS`).",
    example: "no",
    parse: parseBoolean,
  }),
  uploadSubdomain: define({
    env: "XMPP_UPLOAD_SUBDOMAIN",
    default: "upload",
    accepted: "one DNS label (letters, digits, hyphens), different from the other services' subdomains",
    description: "The file sharing service's name is `<this>.<domain>`.",
    example: "share",
    parse: distinctSubdomain([["XMPP_MUC_SUBDOMAIN", (s) => s.mucSubdomain]]),
  }),
  uploadSizeLimit: define({
    env: "XMPP_UPLOAD_SIZE_LIMIT",
    default: "100M",
    accepted: "a size from 1K to 1024G, like 512K, 10M or 1G (binary units: 1M = 1024K)",
    description: "The largest file a user may share; a bigger upload is refused with this limit in the error.",
    example: "20M",
    parse: parseSize,
  }),
  uploadDailyQuota: define({
    env: "XMPP_UPLOAD_DAILY_QUOTA",
    default: "1G",
    accepted: "a size from 1K to 1024G, like 512K, 10M or 1G",
    description: "How much one user may upload per day, in total.",
    example: "5G",
    parse: parseSize,
  }),
  uploadExpiresAfter: define({
    env: "XMPP_UPLOAD_EXPIRES_AFTER",
    default: "1w",
    accepted: "a period from 1h to 52w, like 12h, 30d or 4w",
    description: "Shared files are deleted this long after upload (the message archive keeps messages 1w).",
    example: "30d",
    parse: parsePeriod,
  }),
  proxy65: define({
    env: "XMPP_PROXY65",
    default: "yes",
    accepted: "yes/no (true/false, on/off, 1/0)",
    description:
      "File-transfer proxy (XEP-0065 SOCKS5 bytestreams) at `proxy.<domain>` for every domain, for clients that cannot reach each other directly.",
    example: "no",
    parse: parseBoolean,
  }),
  proxy65Subdomain: define({
    env: "XMPP_PROXY65_SUBDOMAIN",
    default: "proxy",
    accepted: "one DNS label (letters, digits, hyphens), different from the other services' subdomains",
    description: "The file-transfer proxy's name is `<this>.<domain>`.",
    example: "proxy65",
    parse: distinctSubdomain([
      ["XMPP_MUC_SUBDOMAIN", (s) => s.mucSubdomain],
      ["XMPP_UPLOAD_SUBDOMAIN", (s) => s.uploadSubdomain],
    ]),
  }),
  proxy65Address: define({
    env: "XMPP_PROXY65_ADDRESS",
    default: "",
    accepted: "a host name or IP address, or empty",
    description:
      "Where clients reach the file-transfer proxy, as it tells them. Empty: each domain's own name, so its DNS must point at this host.",
    example: "xmpp.example.org",
    parse: parseHostOrIp,
  }),
  proxy65Port: define({
    env: "XMPP_PROXY65_PORT",
    default: "5000",
    accepted: "a port number from 1 to 65535 not used by another service",
    description:
      "The port the file-transfer proxy listens on and tells clients: publish it as the same number on the host (`-p 5000:5000`).",
    example: "7777",
    parse: parsePort,
  }),
  push: define({
    env: "XMPP_PUSH",
    default: "yes",
    accepted: "yes/no (true/false, on/off, 1/0)",
    description: "Push notifications (XEP-0357) through the app's push service, so phones wake up for new messages.",
    example: "no",
    parse: parseBoolean,
  }),
  contactAbuse: define({
    env: "XMPP_CONTACT_ABUSE",
    default: "",
    accepted: "xmpp:, mailto: or https: URIs separated by commas or spaces; empty: the admins",
    description: "Where to report abuse (XEP-0157 server contact addresses). Empty: the `XMPP_ADMINS` as xmpp: URIs.",
    example: "mailto:abuse@example.org",
    parse: parseContactUris,
  }),
  contactAdmin: define({
    env: "XMPP_CONTACT_ADMIN",
    default: "",
    accepted: "xmpp:, mailto: or https: URIs separated by commas or spaces; empty: the admins",
    description: "How to reach the server's admins (XEP-0157). Empty: the `XMPP_ADMINS` as xmpp: URIs.",
    example: "xmpp:alice@example.org",
    parse: parseContactUris,
  }),
  contactSupport: define({
    env: "XMPP_CONTACT_SUPPORT",
    default: "",
    accepted: "xmpp:, mailto: or https: URIs separated by commas or spaces; empty: the admins",
    description: "Where users get help (XEP-0157). Empty: the `XMPP_ADMINS` as xmpp: URIs.",
    example: "https://example.org/help",
    parse: parseContactUris,
  }),
  https: define({
    env: "XMPP_HTTPS",
    default: "yes",
    accepted: "yes/no (true/false, on/off, 1/0)",
    description:
      "HTTPS on 5281 with the XMPP certificates: web clients over websocket (`/xmpp-websocket`) and BOSH (`/http-bind`), `/.well-known/host-meta` (and `.json`), file sharing. Plain HTTP stays inside the container.",
    example: "no",
    parse: parseBoolean,
  }),
  publicUrl: define({
    env: "XMPP_PUBLIC_URL",
    default: "",
    accepted: "an https:// URL with a host, optional port and path, or empty",
    description:
      "Where clients reach 5281 when it is not `https://<domain>:5281`, e.g. published as 443 or behind a reverse proxy: websocket, BOSH and upload URLs are given under it. Empty: each name's own `https://<name>:5281`.",
    example: "https://xmpp.example.org",
    parse: parsePublicUrl,
  }),
  trustedProxies: define({
    env: "XMPP_TRUSTED_PROXIES",
    default: "",
    accepted: "IP addresses or CIDR ranges separated by commas or spaces, or empty",
    description:
      "Reverse proxies in front of 5281 whose `X-Forwarded-For`/`-Proto` headers are believed (for client addresses in logs and registration limits). Loopback is always trusted.",
    example: "172.18.0.0/16",
    parse: parseProxies,
  }),
  webClient: define({
    env: "XMPP_WEB_CLIENT",
    default: "yes",
    accepted: "yes/no (true/false, on/off, 1/0)",
    description:
      "A web client (Converse.js, from the image) at `https://<domain>:5281/` (or `XMPP_PUBLIC_URL`), locked to the page's domain, over websocket with BOSH as fallback, with group chats and file sharing; needs `XMPP_HTTPS`. After registering on an invite page (`XMPP_REGISTRATION=invite`) the friend is sent here to log in.",
    example: "no",
    parse: parseBoolean,
  }),
  webClientPath: define({
    env: "XMPP_WEB_CLIENT_PATH",
    default: "/",
    accepted: `an absolute URL path of letters, digits, "-", "_", "." and "/", not one of ${RESERVED_HTTP_PATHS.join(", ")} or under them`,
    description: "Where the web client is served on 5281 (under `XMPP_PUBLIC_URL`'s path when that is set).",
    example: "/chat",
    parse: parseWebPath,
  }),
  registration: define({
    env: "XMPP_REGISTRATION",
    default: "closed",
    accepted: "closed, invite or open",
    description:
      "Who may create an account from a client (XEP-0077). `closed`: only admins, with prosodyctl. `invite`: whoever holds an unused, unexpired invite (`docker exec xmpp appliance-invite`). `open`: anyone, a few accounts per IP address per hour (spam risk: logged as a warning at every start).",
    example: "invite",
    parse: parseEnum(["closed", "invite", "open"] as const),
  }),
  certificateRequestDir: define({
    env: "XMPP_CERTIFICATE_REQUEST_DIR",
    default: "",
    accepted: "an absolute path inside the container, or empty",
    description:
      "At every start, the entrypoint writes `certificate-names` here: each name this server needs a certificate for, one per line, the primary domain first. The certbot companion in compose.yaml reads it from a shared volume and issues for exactly these names. Empty: nothing written.",
    example: "/run/certificate-request",
    parse: (raw: string) => (raw.trim() === "" ? "" : parseAbsolutePath(raw)),
  }),
  turn: define({
    env: "XMPP_TURN",
    default: "builtin",
    accepted: "builtin, external or off",
    description:
      "STUN/TURN for audio and video calls (XEP-0215: clients get time-limited credentials). `builtin`: coturn in this container, on 3478 (UDP and TCP) and 5349 (TLS, the primary domain's certificate), relaying on `XMPP_TURN_RELAY_PORTS`. `external`: your own TURN server at `XMPP_TURN_HOST`, sharing `XMPP_TURN_SECRET`. `off`: none, so calls fail when either side is behind NAT.",
    example: "external",
    parse: parseEnum<TurnMode>(["builtin", "external", "off"]),
  }),
  turnExternalIp: define({
    env: "XMPP_TURN_EXTERNAL_IP",
    default: "",
    accepted: "an IPv4 or IPv6 address, or empty",
    description:
      "The public address of this host, which the built-in TURN server gives clients as their relay address. Empty: the container's own (private) address, which only clients on the same network can reach.",
    example: "203.0.113.7",
    parse: parseIpAddress,
  }),
  turnRelayPorts: define({
    env: "XMPP_TURN_RELAY_PORTS",
    default: "49160-49200",
    accepted: "a range first-last within 1024..65535, like 49160-49200",
    description:
      "UDP ports the built-in TURN server relays media on, one per call leg: publish the same range on the host (`-p 49160-49200:49160-49200/udp`).",
    example: "50000-50100",
    parse: parsePortRange,
  }),
  turnRelayPublished: define({
    env: "XMPP_TURN_RELAY_PUBLISHED",
    default: "no",
    accepted: "yes/no (true/false, on/off, 1/0)",
    description:
      "Say `yes` once `XMPP_TURN_RELAY_PORTS` is published on the host as UDP with the same numbers (compose.yaml does): the container cannot see its published ports, so until then it warns at start. Not needed with host networking, which it detects.",
    example: "yes",
    parse: parseBoolean,
  }),
  turnAllowedPeers: define({
    env: "XMPP_TURN_ALLOWED_PEERS",
    default: "",
    accepted: "IP addresses or IPv4 CIDR ranges separated by commas or spaces, or empty",
    description:
      "Private addresses the built-in TURN server may relay to. By default it refuses loopback, private and link-local peers, so nobody can use it to reach this host's or its network's internal services.",
    example: "192.168.1.0/24",
    parse: parsePeerRanges,
  }),
  turnSecret: define({
    env: "XMPP_TURN_SECRET",
    default: "",
    accepted: "at least 16 printable ASCII characters without spaces; empty: generated (builtin)",
    description:
      "The secret TURN credentials are derived from (shared with the TURN server). Empty with `builtin`: generated once and kept in the data volume (`/var/lib/prosody/turn-secret`, mode 0600). Best given as `XMPP_TURN_SECRET_FILE`.",
    example: "0123456789abcdef0123",
    secret: true,
    parse: parseTurnSecret,
  }),
  turnHost: define({
    env: "XMPP_TURN_HOST",
    default: "",
    accepted: "a host name or IP address (with XMPP_TURN=external), or empty",
    description: "Where clients reach your external TURN server.",
    example: "turn.example.org",
    parse: parseTurnHost,
  }),
  turnPort: define({
    env: "XMPP_TURN_PORT",
    default: "3478",
    accepted: "a port number from 1 to 65535",
    description: "The external TURN server's STUN/TURN port (UDP and TCP).",
    example: "3479",
    parse: parseAnyPort,
  }),
  turnTlsPort: define({
    env: "XMPP_TURN_TLS_PORT",
    default: "5349",
    accepted: "a port number from 1 to 65535, or none",
    description: "The external TURN server's TURNS (TLS) port; `none` if it has none.",
    example: "443",
    parse: parseOptionalPort,
  }),
  metrics: define({
    env: "XMPP_METRICS",
    default: "off",
    accepted: "off (or no, or empty), or an address of the container and a port, like 127.0.0.1:9100, 0.0.0.0:9100 or [::]:9100",
    description:
      "Serves `/metrics` (OpenMetrics text) on this address: Prosody's own metrics (`mod_http_openmetrics`) and the appliance's gauges (`appliance_*`: every name's certificate expiry, serial and source, renewals done, refused and rolled back, the built-in TURN server up). Off by default; publish the port only where your scraper is (the Kubernetes manifests annotate the pod instead of publishing it).",
    example: "0.0.0.0:9100",
    parse: parseMetricsListen,
  }),
  metricsAllow: define({
    env: "XMPP_METRICS_ALLOW",
    default: "",
    accepted: "IP addresses or CIDR ranges (IPv4 or IPv6) separated by commas or spaces, or empty",
    description: "Who may scrape `XMPP_METRICS`; others get 403. Empty: anyone who can reach its address.",
    example: "10.0.0.0/8,127.0.0.1",
    parse: parseCidrList,
  }),
  storage: define({
    env: "XMPP_STORAGE",
    default: "internal",
    accepted: "internal, sqlite or postgres",
    description:
      "Where accounts, rosters, archives and all other data are kept. `internal`: Prosody's files in the data volume. `sqlite`: one SQLite file in the data volume (`/var/lib/prosody/prosody.sqlite`). `postgres`: the PostgreSQL database `XMPP_DB_*` name, waited for at start. Switching an existing volume from `internal` migrates its data once (see Storage).",
    example: "postgres",
    parse: parseEnum<StorageKind>(["internal", "sqlite", "postgres"]),
  }),
  dbHost: define({
    env: "XMPP_DB_HOST",
    default: "",
    accepted: "a host name or IP address (required with XMPP_STORAGE=postgres), or empty",
    description: "The PostgreSQL server.",
    example: "postgres",
    parse: postgresOnly(parseHostOrIp, true),
  }),
  dbPort: define({
    env: "XMPP_DB_PORT",
    default: "5432",
    accepted: "a port number from 1 to 65535",
    description: "The PostgreSQL server's port.",
    example: "5433",
    parse: parseAnyPort,
  }),
  dbName: define({
    env: "XMPP_DB_NAME",
    default: "prosody",
    accepted: "a name of letters, digits, _, $ or - (at most 63, not starting with a digit)",
    description: "The PostgreSQL database; it must exist. Prosody creates its tables in it, and upgrades them.",
    example: "xmpp",
    parse: parseSqlName,
  }),
  dbUser: define({
    env: "XMPP_DB_USER",
    default: "prosody",
    accepted: "a name of letters, digits, _, $ or - (at most 63, not starting with a digit)",
    description: "The PostgreSQL role Prosody logs in as; it needs to create tables in `XMPP_DB_NAME`.",
    example: "xmpp",
    parse: parseSqlName,
  }),
  dbPassword: define({
    env: "XMPP_DB_PASSWORD",
    default: "",
    secret: true,
    accepted: "the role's password (no line breaks), or empty; only with XMPP_STORAGE=postgres",
    description: "The PostgreSQL role's password. Best given as a secret file: `XMPP_DB_PASSWORD_FILE=/run/secrets/db-password`.",
    example: "correct-horse-battery-staple",
    parse: postgresOnly(parseDatabasePassword, false),
  }),
  dbTls: define({
    env: "XMPP_DB_TLS",
    default: "prefer",
    accepted: "disable, prefer, require or verify-full",
    description:
      "TLS to PostgreSQL (libpq's sslmode). `prefer`: TLS when the server offers it, unverified (a database on the same private container network usually has no certificate). `require`: TLS or no connection, unverified. `verify-full`: TLS with a certificate for `XMPP_DB_HOST` from a public CA (the system's CA list). `disable`: never TLS.",
    example: "verify-full",
    parse: parseEnum<DatabaseTls>(["disable", "prefer", "require", "verify-full"]),
  }),
  dbWait: define({
    env: "XMPP_DB_WAIT",
    default: "60s",
    accepted: "a duration from 10s to 24h, like 30s, 5m or 1h",
    description:
      "How long a start waits for PostgreSQL to accept connections (retrying after 1, 2, 4 ... up to 10 s, each try logged) before it gives up with exit 69. A wrong password or a missing database fails at once (exit 78).",
    example: "5m",
    parse: parseDuration,
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type Settings = { [K in SettingKey]: ReturnType<(typeof SETTINGS)[K]["parse"]> };

const PREFIX = "XMPP_";
/**
 * No value but a list of accounts is longer (a hundred domains fit): a longer one is a mistake or
 * an attack, refused without being parsed or echoed into the log.
 */
export const MAX_VALUE_LENGTH = 4096;
const FILE_SUFFIX = "_FILE";

export function settingDefinitions(): Array<SettingDefinition<unknown> & { key: SettingKey }> {
  return (Object.keys(SETTINGS) as SettingKey[]).map((key) => ({ key, ...SETTINGS[key] }));
}

type Env = Record<string, string | undefined>;

/**
 * Reads every `XMPP_*` variable (or its `_FILE` twin) and returns typed settings.
 * Collects all problems and throws one ConfigError listing each, so a user fixes them in one go.
 */
export function loadSettings(env: Env = process.env, readFile: (path: string) => string = readText): Settings {
  const problems: string[] = [];
  const known = new Set(Object.values(SETTINGS).map((s) => s.env));

  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(PREFIX)) continue;
    const base = name.endsWith(FILE_SUFFIX) ? name.slice(0, -FILE_SUFFIX.length) : name;
    if (known.has(base) || known.has(name)) continue;
    const suggestion = closestMatch(base, [...known]);
    problems.push(
      `${name} is not a known setting.` +
        (suggestion ? ` Did you mean ${suggestion}${name === base ? "" : FILE_SUFFIX}?` : "") +
        ` Known settings: ${[...known].join(", ")} (each also as NAME${FILE_SUFFIX}).`,
    );
  }

  const settings: Partial<Settings> = {};
  for (const { key, env: variable, default: fallback, accepted, example, secret, maxLength, parse } of settingDefinitions()) {
    const fileVariable = variable + FILE_SUFFIX;
    const direct = env[variable];
    const filePath = env[fileVariable];
    let raw: string | undefined;
    let source = variable;
    if (direct !== undefined && filePath !== undefined) {
      problems.push(`${variable} and ${fileVariable} are both set. Accepted: only one of them.`);
      continue;
    }
    if (filePath !== undefined) {
      source = `${fileVariable}=${filePath}`;
      try {
        raw = readFile(filePath).replace(/\r?\n$/, "");
      } catch (error) {
        problems.push(
          `${fileVariable}="${filePath}" cannot be read (${describeFsError(error)}). Accepted: the path of a readable file whose content is the value of ${variable}.`,
        );
        continue;
      }
    } else {
      raw = direct;
    }
    if (raw === undefined || (raw.trim() === "" && fallback === undefined)) {
      if (fallback === undefined) {
        problems.push(`${variable} is required but not set. Accepted: ${accepted}, e.g. ${variable}=${example}.`);
        continue;
      }
      raw = fallback;
    }
    const refusedUnread = tooLongOrBinary(raw, maxLength ?? MAX_VALUE_LENGTH, source !== variable);
    if (refusedUnread !== undefined) {
      problems.push(`${source === variable ? variable : `${variable} (from ${source})`} is invalid: ${refusedUnread} (not shown). Accepted: ${accepted}, e.g. ${variable}=${example}.`);
      continue;
    }
    try {
      (settings as Record<string, unknown>)[key] = parse(raw, settings as Earlier);
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      // The parser's message quotes the value: from a file (often /run/secrets/...) that may be a secret.
      const value = secret ? "" : `="${raw}"`;
      const why =
        source === variable || secret
          ? `${source === variable ? `${variable}${value}` : `${variable} (from ${source})`} is invalid: ${error.message}`
          : `${variable} (from ${source}) is invalid: the file's content is not accepted (not shown: it may be a secret)`;
      problems.push(`${why}. Accepted: ${accepted}, e.g. ${variable}=${example}.`);
    }
  }

  if (problems.length > 0) throw new ConfigError(problems.map(printable));
  return settings as Settings;
}

/** Why a value is refused before its parser sees it, if it is. */
function tooLongOrBinary(raw: string, maxLength: number, fromFile: boolean): string | undefined {
  if (raw.length > maxLength) return `it has ${raw.length} characters, more than ${maxLength}`;
  // No setting holds a NUL; only a file can (an environment variable cannot).
  if (fromFile && raw.includes("\0")) return "the file has a NUL byte, so it is not text";
  return undefined;
}

/**
 * An error quotes the value as given: its line breaks, control and invisible formatting characters
 * (a right-to-left override) are shown escaped, so a value can never forge or hide a log line.
 */
export function printable(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return named[c] ?? `\\u{${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}}`;
  });
}

/** A FIFO, a device or a huge file is refused rather than read: this runs as root, before anything else. */
function readText(path: string): string {
  return readRegularFile(path).toString("utf8");
}

function describeFsError(error: unknown): string {
  if (error instanceof RefusedFile) return error.reason;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return code ?? String(error);
}
