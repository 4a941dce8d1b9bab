import { get } from "node:http";
import { expect } from "vitest";
import { parseOpenMetrics, type MetricFamily } from "../../test-support/openmetrics.js";
import type { Appliance } from "./appliance.js";

/** The port the tests give XMPP_METRICS (0.0.0.0:9100), published as extraPorts. */
export const METRICS_PORT = 9100;

export interface Scrape {
  status: number;
  contentType: string | undefined;
  body: string;
}

/** One GET /metrics, as a scraper makes it. */
export function scrape(appliance: Appliance): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port: appliance.port(METRICS_PORT), path: "/metrics", timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode!, contentType: res.headers["content-type"], body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from the metrics port within 10 s`)));
    req.on("error", reject);
  });
}

/** A scrape that answered 200 in OpenMetrics, parsed strictly. */
export async function metrics(appliance: Appliance): Promise<Map<string, MetricFamily>> {
  const response = await scrape(appliance);
  expect(response.status, response.body).toBe(200);
  expect(response.contentType).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
  return parseOpenMetrics(response.body);
}
