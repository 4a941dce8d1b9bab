import { log } from "../log.js";
import { SETTLE_MS, type CertificateKeeper } from "./certificate-keeper.js";
import { SerialDebouncer } from "./serial-debouncer.js";
import { watchCertificates } from "./watch-certificates.js";

/**
 * certbot re-points its four links within a millisecond or two; wait for this much quiet before
 * checking. A check that still lands mid-renewal sees a mismatched pair and looks again once it
 * settles (SETTLE_MS), without logging an error.
 */
const DEBOUNCE_MS = 100;

export interface KeepCurrentOptions {
  certsDir: string;
  polling: boolean;
  recheckIntervalMs: number;
}

/**
 * Drives the keeper: file events (debounced), a periodic re-check for missed events, and
 * SIGHUP (re-check, then reload Prosody even if nothing changed). Returns a stop function.
 */
export async function keepCertificatesCurrent(keeper: CertificateKeeper, options: KeepCurrentOptions): Promise<() => Promise<void>> {
  let lastEventAt = 0;
  let forceReload = false;
  const checks = new SerialDebouncer(
    async (reasons) => {
      const force = forceReload;
      forceReload = false;
      const outcome = await keeper.check({ reasons, lastEventAt, forceReload: force });
      if (outcome === "settling") setTimeout(() => checks.trigger("renewal settled"), SETTLE_MS).unref();
    },
    DEBOUNCE_MS,
    (error) => log("error", `certificate check failed: ${(error as Error).stack ?? String(error)}`),
  );

  const watcher = await watchCertificates(options.certsDir, {
    polling: options.polling,
    onEvent: (event) => {
      lastEventAt = Date.now();
      log("debug", `certificate directory: ${event}`);
      checks.trigger(event);
    },
  });
  const recheck = setInterval(() => checks.trigger("periodic re-check"), options.recheckIntervalMs);
  const onHangup = () => {
    log("info", "SIGHUP: checking certificates and reloading Prosody");
    forceReload = true;
    void checks.flush("SIGHUP");
  };
  process.on("SIGHUP", onHangup);

  return async () => {
    process.off("SIGHUP", onHangup);
    clearInterval(recheck);
    checks.cancel();
    await watcher.close();
  };
}
