import type Docker from "dockerode";
import { containerLogs, type ExecResult } from "../../test-support/container-exec.js";
import { TEST_LABELS, docker } from "../../test-support/docker-engine.js";
import { waitFor } from "../../test-support/wait-for.js";

/** Debian's coturn (turnutils_uclient, turnutils_peer) on the seeded base: the TURN test peers. */
export const TURN_TOOLS_IMAGE = "prosody-appliance-test/turn-tools:trixie";

let building: Promise<void> | undefined;

/** Builds the tools image once (apt from Debian in a container, committed), unless it exists. */
export function turnToolsImage(): Promise<void> {
  building ??= (async () => {
    if (await docker.getImage(TURN_TOOLS_IMAGE).inspect().then(() => true, () => false)) return;
    const builder = await docker.createContainer({
      Image: "debian:trixie-slim",
      Cmd: ["sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends coturn >/dev/null && rm -rf /var/lib/apt/lists/*"],
      Labels: TEST_LABELS,
    });
    try {
      await builder.start();
      const { StatusCode } = (await builder.wait()) as { StatusCode: number };
      if (StatusCode !== 0) throw new Error(`installing coturn for ${TURN_TOOLS_IMAGE} failed (exit ${StatusCode}): ${await containerLogs(builder)}`);
      await builder.commit({ repo: TURN_TOOLS_IMAGE.split(":")[0], tag: TURN_TOOLS_IMAGE.split(":")[1] });
    } finally {
      await builder.remove({ force: true }).catch(() => undefined);
    }
  })();
  return building;
}

export interface ToolContainer extends AsyncDisposable {
  container: Docker.Container;
  /** Its address on the test network. */
  address: string;
}

/**
 * Starts `command` in a tools container on `network`; disposed with `await using`. A command that
 * may end at once (`needsAddress: false`) can leave the network before it is inspected.
 */
export async function startTool(network: string, command: string[], { needsAddress = true } = {}): Promise<ToolContainer> {
  const container = await docker.createContainer({ Image: TURN_TOOLS_IMAGE, Cmd: command, Labels: TEST_LABELS, HostConfig: { NetworkMode: network } });
  const dispose = () => container.remove({ force: true }).then(() => undefined, () => undefined);
  await container.start();
  const address = (await container.inspect()).NetworkSettings.Networks[network]?.IPAddress ?? "";
  if (!address && needsAddress) {
    await dispose();
    throw new Error(`the tools container has no address on ${network}`);
  }
  return { container, address, [Symbol.asyncDispose]: dispose };
}

/** Runs `command` to its end in a tools container on `network`. */
export async function runTool(network: string, command: string[], timeoutMs = 60_000): Promise<ExecResult> {
  await using tool = await startTool(network, command, { needsAddress: false });
  const exitCode = await waitFor(`${command.join(" ")} to finish`, async () => {
    const state = (await tool.container.inspect()).State;
    return state.Running ? undefined : { code: state.ExitCode };
  }, { timeoutMs, intervalMs: 200 });
  const output = await containerLogs(tool.container);
  return { exitCode: exitCode.code, stdout: output, stderr: "" };
}
