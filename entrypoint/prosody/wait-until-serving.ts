import { connect } from "node:net";
import { sleep } from "../sleep.js";

/** Where mod_appliance_health answers: loopback only, 200 once client connections are accepted. */
export const HEALTH_PORT = 5280;

export type ServingOutcome = "serving" | "exited" | "timed out";

/**
 * One GET /health, as server/healthcheck.lua asks it. A bare socket, not node:http: that module
 * cannot be part of the entrypoint's startup snapshot.
 */
function healthy(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = "";
    const socket = connect({ host: "127.0.0.1", port, timeout: timeoutMs }, () => {
      // write, not end: Prosody drops a connection whose client half-closed before it answered.
      socket.write("GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n");
    });
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      answer += chunk;
      // The status line is all that is needed; HTTP/1.0 would close after the body anyway.
      if (answer.includes("\r\n")) socket.destroy();
    });
    socket.on("timeout", () => socket.destroy());
    socket.on("error", () => resolve(false));
    socket.on("close", () => resolve(/^HTTP\/1\.\d 200 /.test(answer)));
  });
}

/**
 * Waits until Prosody answers its health check (its hosts loaded, client ports listening, its
 * loop running), until it exits, or `timeoutMs`. What starts after this does not compete with
 * Prosody's own start for the CPU.
 */
export async function waitUntilServing(exited: Promise<unknown>, options: { port?: number; timeoutMs?: number; intervalMs?: number } = {}): Promise<ServingOutcome> {
  const { port = HEALTH_PORT, timeoutMs = 30_000, intervalMs = 20 } = options;
  let done = false;
  const gone = exited.then(
    () => "exited" as const,
    () => "exited" as const,
  );
  const poll = (async (): Promise<ServingOutcome> => {
    const deadline = Date.now() + timeoutMs;
    while (!done && Date.now() < deadline) {
      if (await healthy(port, 1_000)) return "serving";
      await sleep(intervalMs);
    }
    return "timed out";
  })();
  const outcome = await Promise.race([poll, gone]);
  done = true;
  return outcome;
}
