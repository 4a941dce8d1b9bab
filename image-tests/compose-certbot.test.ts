import { createHash, X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { get } from "node:https";
import { join, resolve } from "node:path";
import { $ } from "zx";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateNames } from "../entrypoint/certificate-names.js";
import { LISTENERS } from "../entrypoint/listeners.js";
import { loadSettings } from "../entrypoint/settings.js";
import { allServe, servedEverywhere } from "./helpers/served-everywhere.js";
import { composeProject, type ComposeProject } from "../test-support/compose-project.js";
import { containerLogs, execIn } from "../test-support/container-exec.js";
import { IMAGE } from "../test-support/docker-engine.js";
import { makeTempDir } from "../test-support/file-fixtures.js";
import { createTestCa, type TestCa } from "../test-support/test-ca.js";
import { waitFor } from "../test-support/wait-for.js";
import { connectClient } from "../test-support/xmpp/connect-client.js";
import { servedCertificate } from "../test-support/xmpp/served-certificate.js";

const REPO = resolve(import.meta.dirname, "..");
const DOMAIN = "example.org";
const ADMIN = `admin@${DOMAIN}`;
const ADMIN_PASSWORD = "first admin's pass phrase";
/** What the appliance must list in certificate-names with the quick start's settings, and certbot issue for. */
const NAMES = certificateNames(loadSettings({ XMPP_DOMAINS: DOMAIN, XMPP_ADMINS: ADMIN }));
const XMPP_PORTS = Object.values(LISTENERS);
const ACME_DIRECTORY = "https://pebble:14000/dir";

/** pebble and certbot from Debian, tagged by the Dockerfile's content so concurrent runs share it. */
async function buildAcmeImage(): Promise<string> {
  const dockerfile = readFileSync(join(REPO, "test-support/acme/Dockerfile"));
  const tag = `prosody-appliance-test-acme:${createHash("sha256").update(dockerfile).digest("hex").slice(0, 12)}`;
  const build = await $({ nothrow: true, quiet: true })`docker build --tag ${tag} ${join(REPO, "test-support/acme")}`;
  if (build.exitCode !== 0) throw new Error(`building ${tag} from test-support/acme failed:\n${build.stderr.split("\n").slice(-20).join("\n")}`);
  return tag;
}

/**
 * compose.yaml as the README's quick start runs it, with one change: each port is published on
 * a random 127.0.0.1 port instead of its fixed one (other tests run on this engine meanwhile).
 */
function composeFileWithRandomPorts(): string {
  const original = readFileSync(join(REPO, "compose.yaml"), "utf8");
  const rewritten = original
    // The TURN relay range: nothing here relays, and 41 more published ports only slow the start.
    .replace(/^\s*- "\$\{BIND_ADDRESS:-0\.0\.0\.0\}:\d+-\d+:\d+-\d+\/udp".*\n/m, "")
    .replace(/"\$\{BIND_ADDRESS:-0\.0\.0\.0\}:(\d+):(\d+)(\/udp)?"/g, (_all, published: string, target: string, udp: string | undefined) => {
      expect(published).toBe(target);
      return `"127.0.0.1::${target}${udp ?? ""}"`;
    });
  expect(rewritten).not.toContain("\"${BIND_ADDRESS");
  return rewritten;
}

/** The test's stand-ins for the outside world: the ACME server and how certbot reaches it. */
function testOverride(acmeImage: string, dir: string): string {
  return `
services:
  xmpp:
    image: ${IMAGE}
  certbot:
    image: ${acmeImage}
    environment:
      CERTBOT_RETRY_INTERVAL: "5"
      REQUESTS_CA_BUNDLE: /acme/pebble-tls-ca.pem
    volumes:
      - ${dir}/pebble-tls-ca.pem:/acme/pebble-tls-ca.pem:ro
    networks:
      default:
        # The names resolve to certbot on the test network: pebble validates HTTP-01 for real.
        aliases: [${NAMES.join(", ")}]
  pebble:
    image: ${acmeImage}
    entrypoint: ["pebble", "-config", "/acme/pebble-config.json"]
    environment:
      PEBBLE_VA_NOSLEEP: "1"
      PEBBLE_WFE_NONCEREJECT: "0"
    ports:
      - "127.0.0.1::15000"
    volumes:
      - ${dir}:/acme:ro
`;
}

function pebbleConfig(): string {
  return JSON.stringify({
    pebble: {
      listenAddress: "0.0.0.0:14000",
      managementListenAddress: "0.0.0.0:15000",
      certificate: "/acme/pebble-tls.pem",
      privateKey: "/acme/pebble-tls.key",
      httpPort: 80,
      tlsPort: 443,
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
    },
  });
}

function httpsGet(port: number, path: string, caPem: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const request = get({ host: "127.0.0.1", port, path, ca: caPem, servername: "pebble", checkServerIdentity: () => undefined, timeout: 5_000 }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      response.on("end", () => (response.statusCode === 200 ? resolvePromise(body) : reject(new Error(`GET ${path}: HTTP ${response.statusCode}: ${body}`))));
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    request.on("error", reject);
  });
}

describe("compose.yaml's certbot companion against an ACME server (pebble)", () => {
  let dir: string;
  const cleanups: Array<() => void> = [];
  let pebbleTlsCa: TestCa;
  let project: ComposeProject;
  let ports: Map<number, number>;
  let pebbleRoot: string;

  const appliance = { port: (containerPort: number) => ports.get(containerPort)! };
  const logs = async (service: string) => containerLogs(await project.container(service));
  const exec = async (service: string, command: string[]) => execIn(await project.container(service), command);
  const liveSerial = async () => {
    const pem = await exec("certbot", ["cat", `/etc/letsencrypt/live/${DOMAIN}/cert.pem`]);
    return new X509Certificate(pem.stdout).serialNumber.toUpperCase();
  };

  beforeAll(async () => {
    const acmeImage = await buildAcmeImage();
    dir = makeTempDir(cleanups);
    // pebble's own HTTPS listener; certbot trusts it through REQUESTS_CA_BUNDLE.
    pebbleTlsCa = createTestCa("pebble listener");
    const pebbleTls = pebbleTlsCa.issueLeaf(["pebble"]);
    writeFileSync(join(dir, "pebble-tls.pem"), pebbleTls.fullchainPem, { mode: 0o644 });
    writeFileSync(join(dir, "pebble-tls.key"), pebbleTls.keyPem, { mode: 0o644 });
    writeFileSync(join(dir, "pebble-tls-ca.pem"), pebbleTlsCa.root.certPem, { mode: 0o644 });
    writeFileSync(join(dir, "pebble-config.json"), pebbleConfig());
    writeFileSync(join(dir, "compose.yaml"), composeFileWithRandomPorts());
    writeFileSync(join(dir, "compose.test-override.yaml"), testOverride(acmeImage, dir));
    writeFileSync(join(dir, "xmpp-admin-password"), `${ADMIN_PASSWORD}\n`, { mode: 0o600 });

    project = composeProject({
      name: `appliance-test-certbot-${process.pid}`,
      files: [join(dir, "compose.yaml"), join(dir, "compose.test-override.yaml")],
      projectDirectory: REPO,
      // What a user puts in .env for the quick start (the ACME server is the only test addition).
      env: {
        XMPP_DOMAINS: DOMAIN,
        XMPP_ADMINS: ADMIN,
        CERTBOT_EMAIL: `hostmaster@${DOMAIN}`,
        XMPP_ADMIN_PASSWORD_SECRET: join(dir, "xmpp-admin-password"),
        CERTBOT_ARGS: `--standalone --server ${ACME_DIRECTORY}`,
      },
    });
  }, 900_000); // builds a test image from Debian packages: minutes on a fresh machine
  afterAll(async () => {
    await project?.[Symbol.asyncDispose]();
    cleanups.forEach((cleanup) => cleanup());
  });

  it("should serve the self-signed fallback while the ACME server is down, with certbot's reason in its log", async () => {
    await project.ok("up", "--detach", "--no-build", "xmpp", "certbot");
    ports = new Map(await Promise.all(XMPP_PORTS.map(async (port) => [port, await project.port("xmpp", port)] as const)));

    const names = await waitFor("the xmpp service to write certificate-names", async () => {
      const result = await exec("xmpp", ["cat", "/run/certificate-request/certificate-names"]);
      return result.exitCode === 0 && result.stdout;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    expect(names).toBe(NAMES.map((name) => `${name}\n`).join(""));

    const certbotLog = await waitFor("certbot to report the failed request", async () => {
      const printed = await logs("certbot");
      return printed.includes(`certbot-companion: no certificate for ${NAMES.join(" ")}: certbot failed`) && printed;
    }, { timeoutMs: 60_000, intervalMs: 1_000 });
    // certbot's own reason, above the companion's line: the ACME directory could not be reached.
    expect(certbotLog).toMatch(/pebble.*(Name or service not known|Temporary failure in name resolution|Failed to establish a new connection|Connection refused)/);

    const served = await servedCertificate({ port: appliance.port(5223), mode: "direct-tls", domain: DOMAIN, sni: true });
    expect(served.issuer).toContain("prosody-appliance self-signed");
    expect(await servedEverywhere(appliance, DOMAIN)).toEqual(allServe(served.serial));
    expect(await logs("xmpp")).toContain(`WARNING: no valid certificate in /etc/letsencrypt covers ${NAMES.join(", ")}: serving a SELF-SIGNED certificate`);
  });

  it("should issue with certbot once the ACME server answers, and serve that certificate on every listener", async () => {
    await project.ok("up", "--detach", "--no-build", "pebble");
    const managementPort = await project.port("pebble", 15000);
    pebbleRoot = await waitFor("pebble's management API to hand out its issuing root", () => httpsGet(managementPort, "/roots/0", pebbleTlsCa.root.certPem), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });

    // certbot tries again by itself (CERTBOT_RETRY_INTERVAL=5 here; an hour by default).
    const issued = await waitFor("certbot to issue the certificate", async () => (await logs("certbot")).includes(`certbot-companion: certificate for ${NAMES.join(" ")} in /etc/letsencrypt/live/${DOMAIN}`), {
      timeoutMs: 90_000,
      intervalMs: 1_000,
    });
    expect(issued).toBe(true);
    const serial = await liveSerial();
    await waitFor("the certbot certificate on every listener", async () => JSON.stringify(await servedEverywhere(appliance, DOMAIN)) === JSON.stringify(allServe(serial)), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    const served = await servedCertificate({ port: appliance.port(5222), mode: "starttls", domain: DOMAIN, sni: true, caPem: pebbleRoot });
    const sans = served.subjectAltName.split(", ").sort();
    expect({ authorized: served.authorized, sans }).toEqual({ authorized: true, sans: NAMES.map((name) => `DNS:${name}`).sort() });
  });

  it("should log the first admin in over verified TLS, and keep the session through a forced renewal", async () => {
    const before = await liveSerial();
    await using admin = await connectClient({ port: appliance.port(5222), mode: "starttls", domain: DOMAIN, username: "admin", password: ADMIN_PASSWORD, caPem: pebbleRoot });
    await using direct = await connectClient({ port: appliance.port(5223), mode: "direct-tls", domain: DOMAIN, username: "admin", password: ADMIN_PASSWORD, caPem: pebbleRoot });
    expect(admin.serverCertificateSerial).toBe(before);
    expect(direct.serverCertificateSerial).toBe(before);

    // As a user forces it; without a terminal certbot renew would first sleep up to 8 minutes.
    await project.ok("exec", "-T", "certbot", "certbot", "renew", "--force-renewal", "--no-random-sleep-on-renew");
    const after = await liveSerial();
    expect(after).not.toBe(before);
    await waitFor("the renewed certificate on every listener", async () => JSON.stringify(await servedEverywhere(appliance, DOMAIN)) === JSON.stringify(allServe(after)), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });

    expect({ admin: admin.wasDropped(), direct: direct.wasDropped() }).toEqual({ admin: false, direct: false });
    await admin.send(direct.jid, "still here after the renewal");
    expect((await direct.waitForMessage((m) => m.body === "still here after the renewal")).body).toBe("still here after the renewal");
    await using fresh = await connectClient({ port: appliance.port(5223), mode: "direct-tls", domain: DOMAIN, username: "admin", password: ADMIN_PASSWORD, caPem: pebbleRoot });
    expect(fresh.serverCertificateSerial).toBe(after);

    // Logged once the entrypoint has seen the new certificate on every listener itself.
    const renewedLine = new RegExp(`certificate for ${DOMAIN.replace(".", "\\.")} renewed: serial \\S+ -> ${after}`);
    await waitFor("the renewal to be logged", async () => renewedLine.test(await logs("xmpp")), { timeoutMs: 15_000 });
    const xmppLog = await logs("xmpp");
    expect(xmppLog).toContain(`account ${ADMIN} created with the password from XMPP_ADMIN_PASSWORD`);
    expect(xmppLog + (await logs("certbot"))).not.toContain(ADMIN_PASSWORD);
  });
});
