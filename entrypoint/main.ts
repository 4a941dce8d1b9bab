import { ConfigError, UnavailableError } from "./errors.js";
import { guardSignals } from "./signal-guard.js";
import { log, setLogLevel, step } from "./log.js";
import { PATHS } from "./paths.js";
import { loadSettings, type Settings } from "./settings.js";
import { certificateNames, publicHttpsName } from "./certificate-names.js";
import { canListenOnIpv6 } from "./detect-ipv6.js";
import { onHostNetwork } from "./detect-host-network.js";
import { prepareDataDir } from "./prepare-data-dir.js";
import { checkCapabilities } from "./capabilities.js";
import { chooseMounted, describeCertificate, resolveCertificates, type ServedCertificate } from "./certificates/resolve-certificates.js";
import { certsGroupId, prosodyReader } from "./certificates/key-access.js";
import { syncCertsGroup } from "./certificates/sync-certs-group.js";
import { writeCertificateRequest } from "./certificates/certificate-request.js";
import { checkUserConfig } from "./config/check-user-config.js";
import { renderConfig } from "./config/render-config.js";
import { builtinTurnsOffered } from "./config/turn-server-config.js";
import { writeConfig } from "./config/write-config.js";
import { probeServedCertificate } from "./prosody/probe-served-certificate.js";
import { startProsody, stopProsody } from "./prosody/start-prosody.js";
import { claimEarlyProsody } from "./prosody/early-prosody.js";
import { watchEventLoop } from "./prosody/watchdog.js";
import { waitUntilServing } from "./prosody/wait-until-serving.js";
import { createFirstRunAccounts, listedAccounts } from "./prosody/first-run-accounts.js";
import { Renewal, watchForRenewals } from "./renewal/renewal.js";
import { serviceWarnings } from "./config/services/service-warnings.js";
import { startBuiltinTurn } from "./turn/builtin-turn.js";
import { turnSecret } from "./turn/turn-secret.js";
import { startMetricsServer } from "./metrics/metrics-server.js";
import { describeSql, sqlConnection } from "./config/storage-config.js";
import { waitForDatabase } from "./storage/wait-for-database.js";
import { databaseGauge } from "./storage/database-probe.js";
import { migrateToSql, warnIfMigratedAway } from "./storage/migrate-storage.js";

function configFor(settings: Settings, ipv6: boolean, served: ReadonlyMap<string, ServedCertificate>, secret: string | undefined) {
  return renderConfig({ settings, ipv6, certificates: new Map([...served].map(([name, cert]) => [name, cert.files])), turnSecret: secret });
}

/** The steps, in order. Nothing is changed on a mount before every input has been checked. */
async function main(): Promise<number> {
  // Started with the container (server/start-appliance), it waits for the configuration.
  const early = claimEarlyProsody();
  const settings = await step("load settings", () => loadSettings(), (s) => `domains ${s.domains.join(", ")}`);
  setLogLevel(settings.logLevel);
  for (const warning of serviceWarnings(settings, { hostNetwork: onHostNetwork() })) log("warn", warning);
  const names = certificateNames(settings);

  await step("check capabilities", () => checkCapabilities(), (summary) => summary);

  const ipv6 = await step(
    "detect IPv6",
    async () => (settings.ipv6 === "auto" ? canListenOnIpv6() : settings.ipv6),
    (on) => (on ? "listening on IPv4 and IPv6" : "IPv4 only"),
  );

  const choices = await step(
    "find certificates",
    () => chooseMounted(settings.certsDir, names, new Date()),
    (found) => `${[...found.values()].filter((c) => c.chosen).length} of ${names.length} names covered in ${settings.certsDir}`,
  );
  // Only a group the user names may be given to files on their mount: 990 may be a real host group.
  const groupFix = settings.certsGid !== "auto";
  const certsGid = certsGroupId(settings.certsGid, [...choices.values()].flatMap((c) => (c.chosen ? [c.chosen] : [])));

  await step("check your conf.d", () => checkUserConfig(PATHS.userConfigDir, prosodyReader(certsGid)), (files) => files);
  await step("prepare data volume", () => prepareDataDir(), (summary) => summary);
  await step("certs group", () => syncCertsGroup(certsGid), (summary) => summary);
  const sql = sqlConnection(settings);
  const database = sql
    ? await step(
        "wait for the database",
        () => waitForDatabase(sql, { waitMs: settings.dbWait }),
        (state) => `${describeSql(sql)} answers, ${state.rows} rows in Prosody's tables`,
        { timeoutMs: settings.dbWait + 30_000 },
      )
    : undefined;

  const resolution = await step(
    "grant key access",
    () => resolveCertificates(names, { certsDir: settings.certsDir, certsGid, groupFix }, choices),
    (r) => `${r.served.size - r.selfSigned.length} mounted, ${r.selfSigned.length} self-signed`,
  );
  for (const cert of resolution.served.values()) {
    if (cert.checked) log("info", `certificate for ${cert.name}: ${describeCertificate(cert.checked)}, read ${cert.access}`);
  }
  for (const { name, reasons } of resolution.refused) log("warn", `certificate for ${name} not used: ${reasons.join("; ")}`);

  const turn = settings.turn === "off" ? undefined : await step("TURN secret", () => turnSecret(settings)!, (t) => t.source);
  await step("write Prosody config", () => writeConfig(configFor(settings, ipv6, resolution.served, turn?.secret)));
  if (sql && database) {
    // No time limit of its own: a big archive takes as long as it takes, and it runs once.
    await step("migrate files to SQL", () => migrateToSql({ sql, state: database }), (summary) => summary, { timeoutMs: 24 * 3_600_000 });
  } else {
    warnIfMigratedAway();
  }
  await step("create first-run accounts", () => createFirstRunAccounts(listedAccounts(settings)), (summary) => summary);
  if (settings.certificateRequestDir !== "") {
    await step("tell certbot the names", () => writeCertificateRequest(settings.certificateRequestDir, names), (path) => `${names.join(", ")} in ${path}`);
  }

  const prosody = await step(
    "start Prosody",
    () => startProsody({ extraGroups: [certsGid], ...(early ? { early } : {}) }),
    (p) => `pid ${p.child.pid}${p.early ? ", started with the container" : ""}`,
  );
  // The watchdog, TURN and the certificate watcher are not needed before Prosody serves: started
  // after it, they leave the CPU to Prosody's own start (each process Node starts costs ~10 ms
  // of CPU here, to fork it).
  const serving = await step("wait for Prosody", () => waitUntilServing(prosody.exited), (outcome) => outcome);
  // Stopped (docker stop) or failed while starting: nothing else to start.
  if (serving === "exited") return prosodyExited(await prosody.exited);
  // From here on a stuck event loop would leave Prosody unsupervised: the watchdog stops it cleanly.
  const stopWatchdog = watchEventLoop(prosody.child.pid!);
  prosody.exited.then(stopWatchdog, stopWatchdog);
  const turnServer =
    settings.turn === "builtin"
      ? await step(
          "start TURN",
          () => startBuiltinTurn(settings, turn!.secret, resolution.served.get(settings.domains[0]!)!.files),
          (t) => `pid ${t.pid()}, 3478 udp/tcp, 5349 TLS, relay ports ${settings.turnRelayPorts.first}-${settings.turnRelayPorts.last}`,
        )
      : undefined;

  const renewal = new Renewal({
    names,
    certsDir: settings.certsDir,
    certsGid,
    groupFix,
    topology: {
      primary: settings.domains[0]!,
      federation: settings.federation,
      domains: settings.domains,
      https: settings.https,
      httpsOnly: [publicHttpsName(settings)].filter((name): name is string => name !== undefined),
      turn: turnServer !== undefined && builtinTurnsOffered(settings),
    },
    served: resolution.served,
    refused: resolution.refused,
    prosody: {
      writeConfig: (served) => writeConfig(configFor(settings, ipv6, served, turn?.secret)),
      reload: prosody.reload,
      probe: probeServedCertificate,
    },
    ...(turnServer ? { turn: turnServer } : {}),
  });
  renewal.warnAboutServed();
  const stopRenewing = await step(
    "watch certificates",
    () => watchForRenewals(renewal, { certsDir: settings.certsDir, polling: settings.certsPolling, recheckIntervalMs: settings.certsRecheckInterval }),
    () => `${settings.certsDir}${settings.certsPolling ? " (polling)" : ""}, re-checked every ${settings.certsRecheckInterval / 1000} s`,
  );

  const metricsListen = settings.metrics;
  const metrics =
    metricsListen === "off"
      ? undefined
      : await step(
          "serve metrics",
          () =>
            startMetricsServer({
              listen: metricsListen,
              allow: settings.metricsAllow,
              ...(sql ? { databaseUp: databaseGauge(sql) } : {}),
              state: () => ({
                served: renewal.current,
                outcomes: renewal.outcomes,
                ...(turnServer ? { turnUp: () => turnServer.pid() !== undefined } : {}),
              }),
            }),
          () => `http://${metricsListen.host.includes(":") ? `[${metricsListen.host}]` : metricsListen.host}:${metricsListen.port}/metrics${settings.metricsAllow.length > 0 ? `, for ${settings.metricsAllow.join(" ")}` : ""}`,
        );

  const exitCode = await prosody.exited;
  metrics?.close();
  await stopRenewing();
  await turnServer?.stop();
  return prosodyExited(exitCode);
}

function prosodyExited(exitCode: number): number {
  log(exitCode === 0 ? "info" : "error", `Prosody exited with status ${exitCode}`);
  return exitCode;
}

/** Set once a failure ends the entrypoint: Prosody's exit, which the failure causes, is not the outcome. */
let failing = false;

/** Any failure ends here: Prosody, if it runs, is stopped cleanly before the container exits non-zero. */
async function fail(error: unknown): Promise<never> {
  const first = !failing;
  failing = true;
  if (error instanceof ConfigError) {
    for (const problem of error.problems) log("error", problem);
    log("error", `not starting Prosody: fix the setting${error.problems.length > 1 ? "s" : ""} above (exit ${error.exitCode})`);
    process.exit(error.exitCode);
  }
  if (error instanceof UnavailableError) {
    log("error", error.message);
    log("error", `not starting Prosody (exit ${error.exitCode})`);
    process.exit(error.exitCode);
  }
  log("error", `unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  // A failure while the first one stops Prosody: that one exits once Prosody has stopped.
  if (!first) return new Promise<never>(() => undefined);
  await stopProsody();
  process.exit(1);
}

/**
 * Runs the steps and exits with their outcome. entrypoint/snapshot.ts calls it, in the image
 * after Node has restored the entrypoint from its startup snapshot.
 */
export function run(): void {
  // First: until the steps listen for signals, Node's defaults would end the entrypoint.
  guardSignals();
  process.on("uncaughtException", (error) => void fail(error));
  process.on("unhandledRejection", (error) => void fail(error));
  // Node's own start and loading this code: the part of every start before the first step.
  log("info", `entrypoint loaded (${Math.round(process.uptime() * 1000)} ms after Node started)`);
  main().then((code) => {
    // stopProsody's SIGTERM ends Prosody with 0, which would end main() too: fail() gives the exit code.
    if (!failing) process.exit(code);
  }, fail);
}
