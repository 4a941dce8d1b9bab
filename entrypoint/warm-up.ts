import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkCapabilities } from "./capabilities.js";
import { certificateNames } from "./certificate-names.js";
import { certsGroupId, prosodyReader } from "./certificates/key-access.js";
import { issueCertificate } from "./certificates/issue-certificate.js";
import { chooseMounted, describeCertificate, resolveCertificates } from "./certificates/resolve-certificates.js";
import { checkUserConfig } from "./config/check-user-config.js";
import { renderConfig } from "./config/render-config.js";
import { serviceWarnings } from "./config/services/service-warnings.js";
import { writeFileAtomic } from "./config/write-config.js";
import { onHostNetwork } from "./detect-host-network.js";
import { listedAccounts } from "./prosody/first-run-accounts.js";
import { loadSettings } from "./settings.js";
import { turnSecret } from "./turn/turn-secret.js";

/** The settings the warm-up starts from: every service on, as by default, and one admin. */
const WARM_UP_ENV = { XMPP_DOMAINS: "example.org", XMPP_ADMINS: "admin@example.org" } as const;

/**
 * Runs the steps before Prosody once, on throwaway inputs in a temporary directory, while the
 * image builds the entrypoint's startup snapshot (snapshot.ts). V8 compiles a function the first
 * time it runs and the snapshot keeps that bytecode: a container start then no longer compiles
 * the code of its first steps (Node's own fs and child_process code included), which is
 * most of their time without a JIT. Nothing may outlive it: no handle stays open, no
 * module-level value is set, nothing is written outside its directory. Logging is left alone:
 * the steps it calls log nothing themselves.
 */
export async function warmUp(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "appliance-warm-up-"));
  try {
    const settings = loadSettings({ ...WARM_UP_ENV });
    serviceWarnings(settings, { hostNetwork: onHostNetwork() });
    const names = certificateNames(settings);
    checkCapabilities(readFileSync("/proc/self/status", "utf8"), true);

    // The primary name mounted as certbot keeps it; the others get the self-signed fallback.
    const lineage = join(dir, "letsencrypt", "live", names[0]!);
    mkdirSync(lineage, { recursive: true });
    const issued = issueCertificate({ names: [names[0]!] });
    writeFileSync(join(lineage, "fullchain.pem"), issued.certPem);
    writeFileSync(join(lineage, "privkey.pem"), issued.keyPem, { mode: 0o600 });
    const choices = chooseMounted(join(dir, "letsencrypt"), names, new Date());
    const chosen = [...choices.values()].flatMap((choice) => (choice.chosen ? [choice.chosen] : []));
    chosen.forEach((cert) => describeCertificate(cert));
    const certsGid = certsGroupId("auto", chosen);
    mkdirSync(join(dir, "conf.d"));
    checkUserConfig(join(dir, "conf.d"), prosodyReader(certsGid));
    const selfSigned = resolveCertificates(names.slice(1), { certsDir: join(dir, "none"), certsGid, selfSignedDir: join(dir, "self-signed") }, new Map());

    const secret = turnSecret(settings, dir);
    const config = renderConfig({
      settings,
      ipv6: true,
      certificates: new Map([
        ...chosen.map((cert) => [names[0]!, { certPath: cert.certPath, keyPath: cert.keyPath }] as const),
        ...[...selfSigned.served].map(([name, cert]) => [name, cert.files] as const),
      ]),
      turnSecret: secret?.secret,
    });
    writeFileAtomic(join(dir, "global.cfg.lua"), config.global, 0o640, process.getgid!());
    listedAccounts(settings);

    await new Promise<void>((resolve, reject) => spawn("true", { stdio: "ignore" }).once("close", () => resolve()).once("error", reject));
    // No socket: a connection made here (the health check's) left a name lookup at run time
    // (node-postgres reaching XMPP_DB_HOST) never answering, and the entrypoint ended with 0
    // (image-tests/storage-database-unavailable.test.ts). A listening server would cost the
    // snapshot more than it saves anyway.
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
