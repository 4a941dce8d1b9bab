import { BENCH_LABEL, BENCH_RUN, dockerCli, parseTimestampedLine } from "./bench-docker.js";

/**
 * The image's ENTRYPOINT (tini, then Node with its flags) made to run nothing: the same Node and
 * V8 flags, without the entrypoint's snapshot (which would run the entrypoint), and `-e 0`;
 * without what runs between tini and Node (start-appliance, which starts Prosody's process).
 * Undefined when the ENTRYPOINT is not `tini -- [launcher] node ...`.
 */
export function nodeAloneCommand(entrypoint: readonly string[]): { entrypoint: string; args: string[] } | undefined {
  const nodeAt = entrypoint.indexOf("node");
  const tiniArgsEnd = entrypoint.indexOf("--");
  if (nodeAt < 1 || tiniArgsEnd < 1 || tiniArgsEnd > nodeAt || !entrypoint[0]?.endsWith("tini")) return undefined;
  const flags: string[] = [];
  const rest = entrypoint.slice(nodeAt + 1);
  for (let index = 0; index < rest.length; index++) {
    if (rest[index] === "--snapshot-blob") index++;
    else if (!rest[index]!.startsWith("--snapshot-blob=")) flags.push(rest[index]!);
  }
  return { entrypoint: entrypoint[0], args: [...entrypoint.slice(1, tiniArgsEnd + 1), "node", ...flags, "-e", "0"] };
}

let counter = 0;

/**
 * Docker's StartedAt → FinishedAt of one container running `nodeAloneCommand`: the part of the
 * appliance's start that is Node's own, whatever the entrypoint does. Undefined if it failed.
 */
export async function nodeAloneMs(image: string): Promise<number | undefined> {
  const inspected = JSON.parse((await dockerCli(["image", "inspect", "--format", "{{json .Config.Entrypoint}}", image])).stdout) as string[] | null;
  const command = nodeAloneCommand(inspected ?? []);
  if (!command) return undefined;
  const name = `bench-node-alone-${BENCH_RUN}-${++counter}`;
  try {
    await dockerCli(["run", "-d", "--name", name, "--label", `${BENCH_LABEL}=${BENCH_RUN}`, "--network", "none", "--entrypoint", command.entrypoint, image, ...command.args]);
    const status = (await dockerCli(["wait", name])).stdout.trim();
    if (status !== "0") return undefined;
    const [started, finished] = (await dockerCli(["inspect", "--format", "{{.State.StartedAt}} {{.State.FinishedAt}}", name])).stdout.trim().split(" ");
    const from = parseTimestampedLine(`${started} -`)?.at;
    const to = parseTimestampedLine(`${finished} -`)?.at;
    return from === undefined || to === undefined ? undefined : to - from;
  } finally {
    await dockerCli(["rm", "-f", name]).catch(() => undefined);
  }
}
