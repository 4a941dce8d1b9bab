import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { waitUntilServing } from "./wait-until-serving.js";

const never = new Promise<number>(() => {});
let server: Server | undefined;

/** A health endpoint that answers 503 `unhealthy` times, then 200. */
async function healthEndpoint(unhealthy: number): Promise<number> {
  let asked = 0;
  server = createServer((_request, response) => {
    response.statusCode = asked++ < unhealthy ? 503 : 200;
    response.end();
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return typeof address === "object" && address ? address.port : 0;
}

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

describe("waitUntilServing", () => {
  it("should wait through 503s until the health check answers 200", async () => {
    expect(await waitUntilServing(never, { port: await healthEndpoint(3), intervalMs: 1 })).toBe("serving");
  });

  it("should stop waiting when Prosody exits, or after the timeout", async () => {
    const port = await healthEndpoint(Infinity);
    expect(await waitUntilServing(Promise.resolve(1), { port, intervalMs: 1 })).toBe("exited");
    expect(await waitUntilServing(never, { port, timeoutMs: 50, intervalMs: 1 })).toBe("timed out");
  });
});
