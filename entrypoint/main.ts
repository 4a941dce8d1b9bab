import { ConfigError } from "./errors.js";
import { log, setLogLevel, step } from "./log.js";
import { loadSettings } from "./settings.js";
import { canListenOnIpv6 } from "./detect-ipv6.js";
import { prepareDataDir } from "./prepare-data-dir.js";
import { prepareCertificates, warnSelfSigned } from "./certificates/prepare-certificates.js";
import { renderConfig } from "./config/render-config.js";
import { writeConfig } from "./config/write-config.js";
import { startProsody } from "./prosody/start-prosody.js";
import { PROSODY_USER } from "./paths.js";

async function main(): Promise<number> {
  const settings = await step("load settings", () => loadSettings(), (s) => `domains ${s.domains.join(", ")}`);
  setLogLevel(settings.logLevel);

  const ipv6 = await step(
    "detect IPv6",
    async () => (settings.ipv6 === "auto" ? canListenOnIpv6() : settings.ipv6),
    (on) => (on ? "listening on IPv4 and IPv6" : "IPv4 only"),
  );

  await step("prepare data volume", () => prepareDataDir(), (summary) => summary);

  const reader = { uid: PROSODY_USER.uid, gids: [PROSODY_USER.gid] };
  const certificates = await step(
    "choose certificates",
    () => prepareCertificates(settings.domains, { certsDir: settings.certsDir, reader }),
    (c) => `${c.checked.size} from ${settings.certsDir}, ${c.selfSigned.length} self-signed`,
  );
  warnSelfSigned(certificates.selfSigned, settings.certsDir);

  await step("write Prosody config", () =>
    writeConfig(renderConfig({ settings, ipv6, certificates: certificates.files })),
  );

  const prosody = await step("start Prosody", () => startProsody(), (p) => `pid ${p.child.pid}`);
  const exitCode = await prosody.exited;
  log(exitCode === 0 ? "info" : "error", `Prosody exited with status ${exitCode}`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) log("error", problem);
      log("error", `not starting Prosody: fix the setting${error.problems.length > 1 ? "s" : ""} above (exit ${error.exitCode})`);
      process.exit(error.exitCode);
    }
    log("error", `unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
