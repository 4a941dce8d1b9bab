import { TEST_LABEL, ownerAlive } from "./docker-engine.js";
import { freeLoopbackPort } from "./free-loopback-port.js";
import { shellCommand } from "./shell-command.js";

/** Runs a docker command line; a non-zero status throws with what it printed. */
export async function dockerCli(line: string): Promise<string> {
  const result = await shellCommand(line, { timeoutMs: 90_000 });
  if (result.status !== 0) throw new Error(`\`${line}\` exited ${result.status}: ${result.stderr}${result.stdout}`);
  return result.stdout.trim();
}

export interface OneNodeSwarm extends AsyncDisposable {
  nodeId: string;
}

/**
 * The engine's swarm, initialised on loopback when it is in none (no one joins it, it joins no
 * one). The node carries TEST_LABEL with this process's pid while a test made the swarm, so a
 * run that died is swept (sweepSwarmLeftovers); disposing leaves only a swarm made here.
 */
export async function useOneNodeSwarm(): Promise<OneNodeSwarm> {
  let initialised = false;
  if ((await dockerCli("docker info --format '{{.Swarm.LocalNodeState}}'")) === "inactive") {
    await dockerCli(`docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:${await freeLoopbackPort()}`);
    initialised = true;
  }
  const nodeId = await dockerCli("docker info --format '{{.Swarm.NodeID}}'");
  if (initialised) await dockerCli(`docker node update --label-add ${TEST_LABEL}=${process.pid} ${nodeId}`);
  const dispose = async () => {
    if (initialised) await shellCommand("docker swarm leave --force");
  };
  return { nodeId, [Symbol.asyncDispose]: dispose };
}

/** Stacks named appliance-test-<pid> of dead test runs, and a swarm such a run made. */
export async function sweepSwarmLeftovers(): Promise<void> {
  if ((await shellCommand("docker info --format '{{.Swarm.LocalNodeState}}'")).stdout.trim() !== "active") return;
  const stacks = (await shellCommand("docker stack ls --format '{{.Name}}'")).stdout.split("\n").filter((name) => /^appliance-test-\d+$/.test(name));
  const dead = stacks.filter((name) => !ownerAlive({ [TEST_LABEL]: name.slice("appliance-test-".length) }));
  for (const name of dead) await shellCommand(`docker stack rm ${name}`);
  // Best effort: a volume whose task container is still going stays until the next sweep.
  for (const name of dead) await shellCommand(`sleep 5; docker volume rm ${name}_xmpp-data`);
  // "<no value>" when the node has no such label: a swarm no test made is never left.
  const maker = (await shellCommand(`docker node inspect self --format '{{index .Spec.Labels "${TEST_LABEL}"}}'`)).stdout.trim();
  if (/^\d+$/.test(maker) && !ownerAlive({ [TEST_LABEL]: maker }) && stacks.length === dead.length) await shellCommand("docker swarm leave --force");
}
