/**
 * The renewal path, read top to bottom: an event (a file in the certificate directory, the
 * periodic re-check, SIGHUP) -> settle (wait until certbot has finished re-pointing its links)
 * -> resolve what every name should serve -> write Prosody's config -> reload Prosody (and the
 * built-in TURN server) -> verify what every listener serves -> keep the new certificates, or
 * roll back to the previous ones.
 * main.ts is the startup path; this is everything that happens after it.
 */
import { daysLeft, type CertificateFiles } from "../certificates/check-certificate.js";
import { expiryWarningDue } from "../certificates/expiry-warning.js";
import { removeStaleCopies } from "../certificates/key-access.js";
import { resolveCertificates, warnSelfSigned, type Resolution, type ServedCertificate } from "../certificates/resolve-certificates.js";
import { log } from "../log.js";
import { takeHeldHangup } from "../signal-guard.js";
import type { ProbedCertificate, ProbeOptions } from "../prosody/probe-served-certificate.js";
import { verifyListeners, type ListenerTopology, type VerifyBudget } from "../prosody/verify-listeners.js";
import { SerialDebouncer } from "./serial-debouncer.js";
import { watchCertificates } from "./watch-certificates.js";

/**
 * certbot re-points its four links within a millisecond or two; wait for this much quiet before
 * checking. A check that still lands mid-renewal sees a mismatched pair and looks again once it
 * has settled (SETTLE_MS), without logging an error.
 */
export const DEBOUNCE_MS = 100;

/** A refusal this soon after a file event may be a renewal still being written: look again. */
export const SETTLE_MS = 1_000;

/** What prompts a check. */
export type Trigger =
  | { kind: "file event"; event: string }
  /** Catches events a mount never delivered; unprompted, so it repeats no refusal already said. */
  | { kind: "periodic re-check" }
  /** Catches a change between the config written at startup and the watch: unprompted too. */
  | { kind: "watch started" }
  /** The user asks: check now, then reload Prosody even if no certificate changed. */
  | { kind: "SIGHUP" }
  | { kind: "renewal settled" };

/** The running Prosody as a renewal drives it. Unit tests pass a fake one. */
export interface ProsodyControl {
  /** Renders and writes Prosody's config for these certificates. */
  writeConfig(served: ReadonlyMap<string, ServedCertificate>): void;
  /** Asks Prosody to re-read its config and certificates. */
  reload(): void;
  /** Asks one listener which certificate it serves. */
  probe(options: ProbeOptions): Promise<ProbedCertificate>;
}

/** The built-in TURN server as a renewal drives it: its own certificate copy, its own reload. */
export interface TurnControl {
  /** The name whose certificate it serves (the primary domain). */
  name: string;
  writeCertificate(files: CertificateFiles): void;
  /** coturn's SIGUSR2: re-reads the certificate without dropping a relay. Never a restart. */
  reloadCertificate(): void;
}

export interface RenewalOptions {
  names: readonly string[];
  certsDir: string;
  certsGid: number;
  groupFix?: boolean;
  topology: ListenerTopology;
  /** What Prosody serves since startup. */
  served: ReadonlyMap<string, ServedCertificate>;
  /** Refusals already said at startup: an unprompted check does not say them again. */
  refused?: Resolution["refused"];
  prosody: ProsodyControl;
  /** Absent unless XMPP_TURN=builtin. */
  turn?: TurnControl;
  debounceMs?: number;
  settleMs?: number;
  verifyBudget?: Partial<VerifyBudget>;
  now?: () => Date;
}

/** What became of a certificate change for one name: served, refused (a bad file), or rolled back after the reload. */
export type RenewalOutcome = "done" | "refused" | "rolled_back";

export interface WatchOptions {
  certsDir: string;
  polling: boolean;
  recheckIntervalMs: number;
}

/** Event: file events, a periodic re-check and SIGHUP all become triggers. Returns a stop function. */
export async function watchForRenewals(renewal: Renewal, options: WatchOptions): Promise<() => Promise<void>> {
  const watcher = await watchCertificates(options.certsDir, {
    polling: options.polling,
    onEvent: (event) => renewal.trigger({ kind: "file event", event }),
  });
  const recheck = setInterval(() => renewal.trigger({ kind: "periodic re-check" }), options.recheckIntervalMs);
  const onHangup = () => void renewal.hangup();
  process.on("SIGHUP", onHangup);
  // One that came while the entrypoint was still starting was held for this moment.
  if (takeHeldHangup()) onHangup();
  // A certificate changed after startup resolved them and before the watch began sent no event.
  renewal.trigger({ kind: "watch started" });

  return async () => {
    process.off("SIGHUP", onHangup);
    clearInterval(recheck);
    renewal.stop();
    await watcher.close();
  };
}

/**
 * Keeps Prosody on the best valid certificate for every name. A refused certificate never
 * replaces the one being served, and a certificate a listener does not serve after the reload
 * is rolled back.
 */
export class Renewal {
  /** What Prosody serves: changes only when every listener has been seen serving the new one. */
  private served: ReadonlyMap<string, ServedCertificate>;
  private lastEventAt = 0;
  private readonly lastRefusal = new Map<string, string>();
  private readonly expiryWarned = new Map<string, number>();
  private readonly checks: SerialDebouncer<Trigger>;
  /** Per name, how many renewals ended each way since startup (the metrics endpoint reads them). */
  readonly outcomes = new Map<string, Record<RenewalOutcome, number>>();

  constructor(private readonly options: RenewalOptions) {
    this.served = options.served;
    for (const { name, reasons } of options.refused ?? []) this.lastRefusal.set(name, reasons.join("; "));
    this.checks = new SerialDebouncer<Trigger>(
      (triggers) => this.check(triggers),
      options.debounceMs ?? DEBOUNCE_MS,
      (error) => log("error", `certificate check failed: ${(error as Error).stack ?? String(error)}`),
    );
  }

  get current(): ReadonlyMap<string, ServedCertificate> {
    return this.served;
  }

  /** Event -> settle: a burst of triggers becomes one check once things are quiet, one check at a time. */
  trigger(trigger: Trigger): void {
    if (trigger.kind === "file event") {
      this.lastEventAt = Date.now();
      log("debug", `certificate directory: ${trigger.event}`);
    }
    this.checks.trigger(trigger);
  }

  /** SIGHUP skips the quiet period. */
  async hangup(): Promise<void> {
    log("info", "SIGHUP: checking certificates and reloading Prosody");
    await this.checks.flush({ kind: "SIGHUP" });
  }

  /** Resolves once no check is running. */
  idle(): Promise<void> {
    return this.checks.idle();
  }

  stop(): void {
    this.checks.cancel();
  }

  /** Said at startup and on every periodic re-check: self-signed names, certificates close to expiry. */
  warnAboutServed(): void {
    const now = this.now();
    const selfSigned = [...this.served.values()].filter((c) => c.source === "self-signed").map((c) => c.name);
    warnSelfSigned(selfSigned, this.options.certsDir, this.options.names);
    for (const cert of this.served.values()) {
      if (cert.source !== "mounted") continue;
      if (expiryWarningDue(cert, now, this.expiryWarned) !== undefined) {
        log("warn", `certificate for ${cert.name} expires in ${daysLeft(cert, now)} days (${cert.notAfter.toISOString()}, serial ${cert.serial}): is certbot renewing it?`);
      }
    }
  }

  /** One check, in order: resolve -> settle -> write -> reload -> verify -> keep or roll back. */
  private async check(triggers: Trigger[]): Promise<void> {
    const previous = this.served;
    const resolution = this.resolve();
    const settling = this.mayStillBeWritten(resolution);
    if (!settling) this.reportRefusals(resolution, triggers);
    if (triggers.some((t) => t.kind === "periodic re-check")) this.warnAboutServed();

    const forced = triggers.some((t) => t.kind === "SIGHUP");
    if (resolution.changed.length > 0 || forced) {
      this.options.prosody.writeConfig(resolution.served);
      this.options.prosody.reload();
      this.reloadTurn(resolution.served, forced || resolution.changed.includes(this.options.turn?.name ?? ""));
      const problems = await this.verify(resolution);
      if (problems.length > 0) {
        this.rollBack(previous, problems);
        for (const name of resolution.changed) this.count(name, "rolled_back");
        return;
      }
      this.keep(resolution, previous);
    }
    if (settling) this.checkAgainOnceSettled();
  }

  /** Resolve: the best valid certificate for every name; a refused one keeps what is served. */
  private resolve(): Resolution {
    return resolveCertificates(this.options.names, {
      certsDir: this.options.certsDir,
      certsGid: this.options.certsGid,
      groupFix: this.options.groupFix,
      current: this.served,
      now: this.now(),
    });
  }

  /** Settle: a refusal just after a file event may be certbot half-way through re-pointing its links. */
  private mayStillBeWritten(resolution: Resolution): boolean {
    return resolution.refused.length > 0 && Date.now() - this.lastEventAt < this.settleMs();
  }

  private checkAgainOnceSettled(): void {
    setTimeout(() => this.trigger({ kind: "renewal settled" }), this.settleMs()).unref();
  }

  /**
   * Said once per refusal (the same files seen again by a file event, the settled re-check or the
   * periodic one are not news); SIGHUP, the user asking, says it again.
   */
  private reportRefusals(resolution: Resolution, triggers: Trigger[]): void {
    const prompted = triggers.some((t) => t.kind === "SIGHUP");
    for (const { name, reasons } of resolution.refused) {
      const text = reasons.join("; ");
      if (!prompted && this.lastRefusal.get(name) === text) continue;
      this.lastRefusal.set(name, text);
      this.count(name, "refused");
      const kept = this.served.get(name);
      const keeping = kept ? `still serving serial ${kept.serial}${kept.source === "self-signed" ? " (self-signed)" : ""}, expires ${kept.notAfter.toISOString()}` : "";
      log(kept?.source === "mounted" ? "error" : "warn", `certificate for ${name} not used: ${text}; ${keeping}`);
    }
  }

  /** Verify: every listener serves each changed name's new certificate. */
  private verify(resolution: Resolution): Promise<string[]> {
    const expected = resolution.changed.map((name) => ({ name, fingerprint256: resolution.served.get(name)!.fingerprint256 }));
    return verifyListeners(expected, { topology: this.options.topology, probe: this.options.prosody.probe, budget: this.options.verifyBudget });
  }

  /** Roll back: Prosody goes back to the certificates it served before this check. */
  private rollBack(previous: ReadonlyMap<string, ServedCertificate>, problems: string[]): void {
    log("error", `after the reload, not every listener serves the new certificate (${problems.join("; ")}): going back to the previous certificates`);
    this.options.prosody.writeConfig(previous);
    this.options.prosody.reload();
    this.reloadTurn(previous, true);
  }

  /** Reload, for TURN: its copy of the certificate, then its own reload signal. */
  private reloadTurn(served: ReadonlyMap<string, ServedCertificate>, needed: boolean): void {
    const turn = this.options.turn;
    const certificate = turn && served.get(turn.name);
    if (!needed || !turn || !certificate) return;
    turn.writeCertificate(certificate.files);
    turn.reloadCertificate();
  }

  /** Keep: the new certificates are what Prosody serves; private copies nothing serves go. */
  private keep(resolution: Resolution, previous: ReadonlyMap<string, ServedCertificate>): void {
    for (const name of resolution.changed) {
      const before = previous.get(name);
      const after = resolution.served.get(name)!;
      log(
        "info",
        `certificate for ${name} renewed: serial ${before?.serial ?? "(none)"} -> ${after.serial}, expires ${after.notAfter.toISOString()}` +
          (after.source === "self-signed" ? " (self-signed)" : ` (${after.checked?.certPath}, ${after.access})`),
      );
      this.lastRefusal.delete(name);
      this.count(name, "done");
    }
    this.served = resolution.served;
    removeStaleCopies([...resolution.served.values()].map((c) => c.files));
  }

  private count(name: string, outcome: RenewalOutcome): void {
    const counts = this.outcomes.get(name) ?? { done: 0, refused: 0, rolled_back: 0 };
    counts[outcome] += 1;
    this.outcomes.set(name, counts);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private settleMs(): number {
    return this.options.settleMs ?? SETTLE_MS;
  }
}
