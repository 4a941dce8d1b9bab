import { readFileSync } from "node:fs";
import { ConfigError } from "./errors.js";
import type { LogLevel } from "./log.js";
import { closestMatch } from "./closest-match.js";

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
  parse(raw: string, settings: Partial<Settings>): T;
}

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

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

function parseDuration(raw: string): number {
  const match = /^\s*(\d+)\s*([smh])\s*$/i.exec(raw);
  if (!match) throw new InvalidValue(`"${raw}" is not a duration`);
  const ms = Number(match[1]) * DURATION_UNITS[match[2]!.toLowerCase()]!;
  if (ms < 10_000 || ms > 86_400_000) throw new InvalidValue(`"${raw}" is outside 10s..24h`);
  return ms;
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
  certsDir: define({
    env: "XMPP_CERTS_DIR",
    default: "/etc/letsencrypt",
    accepted: "an absolute path inside the container",
    description:
      "Where certificates are found: certbot's `/etc/letsencrypt` (its `live/` lineages), or a plain directory of `<name>.crt`/`<name>.key` or `<name>/fullchain.pem`+`privkey.pem`. Names no certificate covers get a self-signed one kept in the data volume.",
    example: "/certs",
    parse: parseAbsolutePath,
  }),
  certsGid: define({
    env: "XMPP_CERTS_GID",
    default: "auto",
    accepted: "auto, or a numeric group id",
    description:
      "The group that may read the mounted private keys (the HOWTOs' `certs` group); Prosody runs with it. `auto` takes the group owning the keys, or 990 when they are root's: then certbot's group fix is applied on a writable mount (dirs 0750, keys 0640, group only), and a read-only mount's pair is copied to a private tmpfs.",
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
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type Settings = { [K in SettingKey]: ReturnType<(typeof SETTINGS)[K]["parse"]> };

const PREFIX = "XMPP_";
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
  for (const { key, env: variable, default: fallback, accepted, example, parse } of settingDefinitions()) {
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
    try {
      (settings as Record<string, unknown>)[key] = parse(raw, settings);
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      const shown = source === variable ? `${variable}="${raw}"` : `${variable} (from ${source})`;
      problems.push(`${shown} is invalid: ${error.message}. Accepted: ${accepted}, e.g. ${variable}=${example}.`);
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return settings as Settings;
}

function readText(path: string): string {
  return readFileSync(path, "utf8");
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return code ?? String(error);
}
