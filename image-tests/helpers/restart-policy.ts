import { expect } from "vitest";
import { docker } from "../../test-support/docker-engine.js";
import { waitFor } from "../../test-support/wait-for.js";
import { waitUntilReady, type Appliance } from "./appliance.js";

/**
 * Runs `command` (sh) in the container and resolves with the container's exit code and how long
 * it took to exit: from the command, as the container's clock saw it, to Docker's "die" event
 * (one host clock). The event carries the exit code itself: under a restart policy the container
 * may already run again (exit code reset to 0) by the time a `wait` answer or an inspect is read.
 */
export async function runAndWaitForDie(appliance: Appliance, command: string): Promise<{ code: number; ms: number }> {
  const since = Math.floor(Date.now() / 1000) - 1;
  const ran = await appliance.exec(["sh", "-c", `date +%s%N; ${command}`]);
  expect(ran.exitCode, ran.stderr).toBe(0);
  const ranNs = BigInt(ran.stdout.trim());
  let die: { exitCode: number; timeNano: bigint } | undefined;
  await waitFor(`Docker's "die" event for the container after \`${command}\``, async () => {
    const stream = await docker.getEvents({
      since,
      until: Math.floor(Date.now() / 1000) + 1,
      filters: { container: [appliance.container.id], event: ["die"] },
    });
    const text = await new Promise<string>((resolve, reject) => {
      let all = "";
      stream.on("data", (chunk: Buffer) => (all += chunk.toString("utf8")));
      stream.on("end", () => resolve(all));
      stream.on("error", reject);
    });
    for (const line of text.split("\n").filter(Boolean)) {
      const event = JSON.parse(line) as { timeNano: number | string; Actor: { Attributes: Record<string, string> } };
      const timeNano = BigInt(event.timeNano);
      if (timeNano >= ranNs) die = { exitCode: Number(event.Actor.Attributes.exitCode), timeNano };
    }
    return die !== undefined;
  }, { timeoutMs: 30_000, intervalMs: 250 });
  return { code: die!.exitCode, ms: Number(die!.timeNano - ranNs) / 1e6 };
}

/** Docker's RFC 3339 timestamps (nanoseconds, UTC) as nanoseconds since the epoch. */
export function dockerTimeNs(timestamp: string): bigint {
  const fraction = (/\.(\d+)/.exec(timestamp)?.[1] ?? "").padEnd(9, "0");
  return BigInt(Date.parse(`${timestamp.slice(0, 19)}Z`)) * 1_000_000n + BigInt(fraction);
}

/** The 127.0.0.1 port 5222 is published on now: Docker may pick another one when it restarts the container. */
export async function c2sPort(appliance: Appliance): Promise<number> {
  return Number((await appliance.container.inspect()).NetworkSettings.Ports["5222/tcp"]?.[0]?.HostPort);
}

/** Waits until Docker's restart policy has started the container `count` times and it is ready again. */
export async function restarted(appliance: Appliance, count: number): Promise<void> {
  await waitFor(`Docker's restart policy to start the container again (restart ${count})`, async () => {
    const state = await appliance.container.inspect();
    return state.RestartCount >= count && state.State.Running;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  await waitUntilReady(appliance);
}
