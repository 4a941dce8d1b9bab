import type { ServedCertificate } from "../certificates/resolve-certificates.js";
import type { RenewalOutcome } from "../renewal/renewal.js";

/** What the appliance's own gauges are read from, at each scrape. */
export interface ApplianceState {
  served: ReadonlyMap<string, ServedCertificate>;
  outcomes: ReadonlyMap<string, Record<RenewalOutcome, number>>;
  /** Absent unless XMPP_TURN=builtin. */
  turnUp?: () => boolean;
  /** Absent with file storage: whether the SQL database answered its latest query (databaseGauge). */
  databaseUp?: boolean;
  /** Whether Prosody's own metrics were read for this scrape. */
  prosodyUp: boolean;
}

const OUTCOMES: readonly RenewalOutcome[] = ["done", "refused", "rolled_back"];

function labelValue(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs).map(([key, value]) => `${key}=${labelValue(value)}`).join(",")}}`;
}

function family(name: string, type: string, help: string, samples: string[], unit?: string): string {
  return [`# TYPE ${name} ${type}`, ...(unit ? [`# UNIT ${name} ${unit}`] : []), `# HELP ${name} ${help}`, ...samples].join("\n") + "\n";
}

/** The appliance's families in OpenMetrics text (without the closing `# EOF`). */
export function renderApplianceMetrics(state: ApplianceState): string {
  const served = [...state.served.values()];
  const families = [
    family(
      "appliance_certificate_expiry_timestamp_seconds",
      "gauge",
      "When the certificate served for this name expires (its notAfter), in Unix seconds.",
      served.map((cert) => `appliance_certificate_expiry_timestamp_seconds${labels({ name: cert.name })} ${cert.notAfter.getTime() / 1000}`),
      "seconds",
    ),
    family(
      "appliance_certificate",
      "info",
      "The certificate served for this name: its serial and where it comes from (mounted, or self-signed by the appliance).",
      served.map((cert) => `appliance_certificate_info${labels({ name: cert.name, serial: cert.serial, source: cert.source })} 1`),
    ),
    family(
      "appliance_certificate_renewals",
      "counter",
      "Certificate changes since start, by outcome: done (served everywhere), refused (a bad file, the old one kept), rolled_back (a listener did not take it).",
      served.flatMap((cert) => {
        const counts = state.outcomes.get(cert.name);
        return OUTCOMES.map((outcome) => `appliance_certificate_renewals_total${labels({ name: cert.name, outcome })} ${counts?.[outcome] ?? 0}`);
      }),
    ),
    family("appliance_prosody_metrics_up", "gauge", "1 if Prosody's own metrics were read for this scrape.", [`appliance_prosody_metrics_up ${state.prosodyUp ? 1 : 0}`]),
  ];
  if (state.turnUp) {
    families.push(family("appliance_turn_up", "gauge", "1 while the built-in TURN server (coturn) runs.", [`appliance_turn_up ${state.turnUp() ? 1 : 0}`]));
  }
  if (state.databaseUp !== undefined) {
    families.push(family("appliance_database_up", "gauge", "1 if the SQL database (XMPP_STORAGE=sqlite or postgres) answered a query, asked at most once every 5 s.", [`appliance_database_up ${state.databaseUp ? 1 : 0}`]));
  }
  return families.join("");
}
