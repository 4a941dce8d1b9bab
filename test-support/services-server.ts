import type Docker from "dockerode";
import { startAppliance, type Appliance } from "../image-tests/helpers/appliance.js";
import { letsEncryptFixture, type LetsEncryptFixture } from "../image-tests/helpers/lets-encrypt-fixture.js";
import { connectClient, type ClientTlsMode, type XmppTestClient } from "./xmpp/connect-client.js";

export const DOMAIN = "example.org";
/** Every name the server answers for, each on the certificate, so TLS is verified on every connection. */
export const SERVICE_NAMES = [DOMAIN, `conference.${DOMAIN}`, `upload.${DOMAIN}`, `proxy.${DOMAIN}`];
export const HTTPS_PORT = 5281;

export interface ServicesServer extends AsyncDisposable {
  appliance: Appliance;
  le: LetsEncryptFixture;
  caPem: string;
  /** For httpsRequest: URLs naming 5281 are fetched through its published port. */
  httpsPortMap: Record<number, number>;
  /** Creates an account (prosodyctl adduser) and returns its password. */
  addUser(username: string): Promise<string>;
  passwordOf(username: string): string;
  /** Logs in `username` (created with addUser) over verified TLS: STARTTLS on 5222 unless said. */
  connect(username: string, mode?: ClientTlsMode): Promise<XmppTestClient>;
}

export interface ServicesServerOptions {
  env?: Record<string, string | undefined>;
  extraPorts?: NonNullable<Parameters<typeof startAppliance>[0]>["extraPorts"];
  binds?: string[];
  /** How long to wait for the health check (startAppliance's default unless said). */
  readyTimeoutMs?: number;
  /** Security options and the like (startAppliance's hostConfig). */
  hostConfig?: Docker.HostConfig;
}

/** The appliance for example.org, services set by `env` only, with a certbot tree naming every service. */
export async function startServicesServer({ env = {}, extraPorts = [], binds = [], readyTimeoutMs, hostConfig }: ServicesServerOptions = {}): Promise<ServicesServer> {
  const le = letsEncryptFixture([{ name: DOMAIN, names: SERVICE_NAMES }]);
  let appliance: Appliance;
  try {
    appliance = await startAppliance({
      env: { XMPP_DOMAINS: DOMAIN, ...env }, binds: [le.bind, ...binds], extraPorts,
      ...(readyTimeoutMs ? { readyTimeoutMs } : {}), ...(hostConfig ? { hostConfig } : {}),
    });
  } catch (error) {
    le[Symbol.dispose]();
    throw error;
  }
  const passwords = new Map<string, string>();
  const passwordOf = (username: string) => {
    const password = passwords.get(username);
    if (password === undefined) throw new Error(`${username} was not created with addUser`);
    return password;
  };
  const dispose = async () => {
    await appliance.dispose();
    le[Symbol.dispose]();
  };
  return {
    appliance,
    le,
    caPem: le.ca.root.certPem,
    httpsPortMap: { [HTTPS_PORT]: appliance.port(HTTPS_PORT) },
    async addUser(username) {
      const password = `pw-${username}-${Math.random().toString(36).slice(2, 8)}`;
      const added = await appliance.exec(["prosodyctl", "adduser", `${username}@${DOMAIN}`], { stdin: `${password}\n${password}\n` });
      if (added.exitCode !== 0) throw new Error(`prosodyctl adduser ${username}@${DOMAIN} exited ${added.exitCode}: ${added.stdout}${added.stderr}`);
      passwords.set(username, password);
      return password;
    },
    passwordOf,
    connect(username, mode = "starttls") {
      const password = passwordOf(username);
      const port = appliance.port(mode === "websocket" ? HTTPS_PORT : mode === "starttls" ? 5222 : 5223);
      return connectClient({ port, mode, domain: DOMAIN, username, password, caPem: le.ca.root.certPem });
    },
    dispose,
    [Symbol.asyncDispose]: dispose,
  } as ServicesServer & { dispose(): Promise<void> };
}
