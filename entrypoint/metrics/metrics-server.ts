import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { BlockList, isIPv4 } from "node:net";
import { log } from "../log.js";
import type { MetricsListen } from "../settings.js";
import { renderApplianceMetrics, type ApplianceState } from "./appliance-metrics.js";

/**
 * node:http cannot be in the entrypoint's startup snapshot (Node refuses it while building one),
 * so it is loaded when first used, after the snapshot is restored, and only with XMPP_METRICS.
 */
function http(): typeof import("node:http") {
  return process.getBuiltinModule("node:http");
}

export const OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/** Prosody's loopback HTTP port (server/prosody.cfg.lua), where mod_http_openmetrics answers loopback only. */
const PROSODY_METRICS = { host: "127.0.0.1", port: 5280, path: "/metrics" } as const;
const PROSODY_TIMEOUT_MS = 5_000;

export interface MetricsServerOptions {
  listen: Exclude<MetricsListen, "off">;
  /** XMPP_METRICS_ALLOW: CIDR ranges; empty allows whoever reaches the address. */
  allow: readonly string[];
  state(): Omit<ApplianceState, "prosodyUp" | "databaseUp">;
  /** With SQL storage: whether the database answers (databaseGauge: one probe at a time, its answer reused for a few seconds). */
  databaseUp?: () => Promise<boolean>;
}

function allowList(ranges: readonly string[]): BlockList | undefined {
  if (ranges.length === 0) return undefined;
  const list = new BlockList();
  for (const range of ranges) {
    const [address, bits] = range.split("/") as [string, string];
    list.addSubnet(address, Number(bits), isIPv4(address) ? "ipv4" : "ipv6");
  }
  return list;
}

function allowed(list: BlockList | undefined, remote: string | undefined): boolean {
  if (!list) return true;
  if (!remote) return false;
  // A listener on [::] sees IPv4 clients as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote)?.[1];
  return mapped ? list.check(mapped, "ipv4") : list.check(remote, isIPv4(remote) ? "ipv4" : "ipv6");
}

/** Prosody's OpenMetrics text without its closing `# EOF`, or undefined (said in the log) if it did not answer. */
async function prosodyMetrics(): Promise<string | undefined> {
  const { request } = http();
  return new Promise((resolve) => {
    const fail = (why: string) => {
      log("warn", `metrics: Prosody's own metrics not read (${why}); serving the appliance's alone`);
      resolve(undefined);
    };
    const req = request({ ...PROSODY_METRICS, headers: { Host: "localhost" }, timeout: PROSODY_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode !== 200) fail(`HTTP ${res.statusCode} from ${PROSODY_METRICS.host}:${PROSODY_METRICS.port}`);
        else resolve(text.replace(/# EOF\n?$/, ""));
      });
      res.on("error", (error) => fail(error.message));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${PROSODY_TIMEOUT_MS} ms`)));
    req.on("error", (error) => fail(error.message));
    req.end();
  });
}

/**
 * One endpoint for a scraper: Prosody's metrics and the appliance's gauges in one OpenMetrics
 * document. The entrypoint serves it, not Prosody, because it alone knows the certificates and
 * renewals, and so the address is the user's choice (XMPP_METRICS) apart from every XMPP port.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<Server> {
  const { createServer } = http();
  const list = allowList(options.allow);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      if (!allowed(list, req.socket.remoteAddress)) {
        res.writeHead(403, { "Content-Type": "text/plain" }).end("403 not in XMPP_METRICS_ALLOW\n");
        return;
      }
      if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("404: metrics are at /metrics\n");
        return;
      }
      const [prosody, databaseUp] = await Promise.all([prosodyMetrics(), options.databaseUp?.()]);
      const body = (prosody ?? "") + renderApplianceMetrics({ ...options.state(), prosodyUp: prosody !== undefined, databaseUp }) + "# EOF\n";
      res.writeHead(200, { "Content-Type": OPENMETRICS_TYPE }).end(body);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen.port, options.listen.host, () => resolve());
  });
  server.on("error", (error) => log("warn", `metrics: ${error.message}`));
  return server;
}
