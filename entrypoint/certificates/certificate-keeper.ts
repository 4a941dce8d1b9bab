import type { RenderedConfig } from "../config/render-config.js";
import { log } from "../log.js";
import { verifyServed, type ListenerTopology } from "../prosody/reload-prosody.js";
import { daysLeft } from "./check-certificate.js";
import { removeStaleCopies } from "./key-access.js";
import { resolveCertificates, warnSelfSigned, type ServedCertificate } from "./resolve-certificates.js";

/** A refusal this soon after a file event may be a renewal still being written: look again. */
export const SETTLE_MS = 1_000;

export const EXPIRY_WARNING_DAYS = [30, 14, 7] as const;

/**
 * The warning threshold (30, 14 or 7 days) a certificate has newly crossed, if any. `warned`
 * remembers, per fingerprint, the last threshold said, so each is said once.
 */
export function expiryWarningDue(cert: ServedCertificate, now: Date, warned: Map<string, number>): number | undefined {
  const left = daysLeft(cert, now);
  const threshold = [...EXPIRY_WARNING_DAYS].reverse().find((days) => left <= days);
  if (threshold === undefined || warned.get(cert.fingerprint256) === threshold) return undefined;
  warned.set(cert.fingerprint256, threshold);
  return threshold;
}

export interface KeeperOptions {
  names: readonly string[];
  certsDir: string;
  certsGid: number;
  topology: ListenerTopology;
  served: Map<string, ServedCertificate>;
  render(served: ReadonlyMap<string, ServedCertificate>): RenderedConfig;
  write(config: RenderedConfig): void;
  reload(): void;
  /** How long after a file event a refused certificate may still be half-written. */
  settleMs?: number;
  now?: () => Date;
}

export interface CheckRequest {
  /** What prompted the check: file events, "SIGHUP", "periodic re-check". */
  reasons: string[];
  /** When the last file event arrived (ms since epoch), to tell a renewal in progress. */
  lastEventAt: number;
  /** Reload Prosody even when no certificate changed (the user sent SIGHUP). */
  forceReload?: boolean;
}

/**
 * Keeps Prosody on the best valid certificate for every name: re-checks the directory, writes
 * the config, reloads, proves that every listener serves the new certificate, and rolls back
 * when it does not. A refused certificate never replaces the one being served.
 */
export class CertificateKeeper {
  private readonly warned = new Map<string, number>();
  private readonly lastRefusal = new Map<string, string>();

  constructor(private readonly options: KeeperOptions) {}

  get served(): ReadonlyMap<string, ServedCertificate> {
    return this.options.served;
  }

  /** Startup and periodic warnings: self-signed names and certificates close to expiry. */
  warn(): void {
    const now = this.options.now?.() ?? new Date();
    const selfSigned = [...this.options.served.values()].filter((c) => c.source === "self-signed").map((c) => c.name);
    warnSelfSigned(selfSigned, this.options.certsDir);
    for (const cert of this.options.served.values()) {
      if (cert.source !== "mounted") continue;
      const threshold = expiryWarningDue(cert, now, this.warned);
      if (threshold !== undefined) {
        log("warn", `certificate for ${cert.name} expires in ${daysLeft(cert, now)} days (${cert.notAfter.toISOString()}, serial ${cert.serial}): is certbot renewing it?`);
      }
    }
  }

  /**
   * Returns "settling" when a refusal may be a renewal still being written: the caller checks
   * again once it has settled.
   */
  async check(request: CheckRequest): Promise<"done" | "settling"> {
    const { options } = this;
    const now = options.now?.() ?? new Date();
    const current = options.served;
    const resolution = resolveCertificates(options.names, { certsDir: options.certsDir, certsGid: options.certsGid, current, now });
    const settling = resolution.refused.length > 0 && Date.now() - request.lastEventAt < (options.settleMs ?? SETTLE_MS);

    if (!settling) this.reportRefusals(resolution.refused, request);
    if (request.reasons.includes("periodic re-check")) this.warn();
    if (resolution.changed.length === 0 && !request.forceReload) return settling ? "settling" : "done";

    options.write(options.render(resolution.served));
    options.reload();
    const expected = resolution.changed.map((name) => ({ name, fingerprint256: resolution.served.get(name)!.fingerprint256 }));
    const problems = await verifyServed(expected, options.topology);
    if (problems.length > 0) {
      log("error", `after the reload, not every listener serves the new certificate (${problems.join("; ")}): going back to the previous certificates`);
      options.write(options.render(current));
      options.reload();
      return "done";
    }
    for (const name of resolution.changed) {
      const before = current.get(name);
      const after = resolution.served.get(name)!;
      log(
        "info",
        `certificate for ${name} renewed: serial ${before?.serial ?? "(none)"} -> ${after.serial}, expires ${after.notAfter.toISOString()}` +
          (after.source === "self-signed" ? " (self-signed)" : ` (${after.checked?.certPath}, ${after.access})`),
      );
      this.lastRefusal.delete(name);
    }
    options.served = resolution.served;
    removeStaleCopies([...resolution.served.values()].map((c) => c.files));
    return settling ? "settling" : "done";
  }

  private reportRefusals(refused: Array<{ name: string; reasons: string[] }>, request: CheckRequest): void {
    const prompted = request.reasons.some((r) => r !== "periodic re-check");
    for (const { name, reasons } of refused) {
      const text = reasons.join("; ");
      if (!prompted && this.lastRefusal.get(name) === text) continue;
      this.lastRefusal.set(name, text);
      const kept = this.options.served.get(name);
      const keeping = kept ? `still serving serial ${kept.serial}${kept.source === "self-signed" ? " (self-signed)" : ""}, expires ${kept.notAfter.toISOString()}` : "";
      log(kept?.source === "mounted" ? "error" : "warn", `certificate for ${name} not used: ${text}; ${keeping}`);
    }
  }
}
