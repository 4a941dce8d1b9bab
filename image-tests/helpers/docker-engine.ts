import Docker from "dockerode";

export const IMAGE = process.env.APPLIANCE_IMAGE ?? "prosody-appliance:latest";
/** Every container and volume a test makes carries this label, so leftovers can be swept. */
export const TEST_LABEL = "prosody-appliance.test";

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

/** Removes containers and volumes left by an earlier, interrupted run. */
export async function sweepTestLeftovers(): Promise<void> {
  const filters = JSON.stringify({ label: [TEST_LABEL] });
  for (const info of await docker.listContainers({ all: true, filters })) {
    await docker.getContainer(info.Id).remove({ force: true, v: true }).catch(() => undefined);
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const volume of Volumes ?? []) await docker.getVolume(volume.Name).remove().catch(() => undefined);
  const networks = await docker.listNetworks({ filters });
  for (const network of networks) await docker.getNetwork(network.Id).remove().catch(() => undefined);
}
