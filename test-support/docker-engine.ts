import Docker from "dockerode";

export const IMAGE = process.env.APPLIANCE_IMAGE ?? "prosody-appliance:latest";
/**
 * Every container, volume and network a test makes carries this label, valued with the pid of
 * the test process, so leftovers of dead runs can be swept without touching a run in progress.
 */
export const TEST_LABEL = "prosody-appliance.test";
export const TEST_LABELS = { [TEST_LABEL]: String(process.pid) };

export function ownerAlive(labels: Record<string, string> | undefined): boolean {
  const pid = Number(labels?.[TEST_LABEL]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const docker = new Docker();

/** Fails with how to fix it when no engine answers: image tests never pass without one. */
export async function assertEngineAnswers(): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(
      `No Docker engine answers (${(error as Error).message}). The image tests need one: ` +
        "run `bash .ci/engine.sh` (starts Debian's dockerd and seeds debian:trixie-slim), " +
        "or start Docker and make /var/run/docker.sock reachable (or set DOCKER_HOST).",
    );
  }
}

/** Removes what an earlier, interrupted run left; what a live test process owns stays. */
export async function sweepTestLeftovers(): Promise<void> {
  const filters = JSON.stringify({ label: [TEST_LABEL] });
  for (const info of await docker.listContainers({ all: true, filters })) {
    if (ownerAlive(info.Labels)) continue;
    await docker.getContainer(info.Id).remove({ force: true, v: true }).catch(() => undefined);
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const volume of (Volumes ?? []).filter((v) => !ownerAlive(v.Labels ?? undefined))) await docker.getVolume(volume.Name).remove().catch(() => undefined);
  const networks = await docker.listNetworks({ filters });
  for (const network of networks.filter((n) => !ownerAlive(n.Labels))) await docker.getNetwork(network.Id).remove().catch(() => undefined);
}
