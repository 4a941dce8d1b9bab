import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { $ } from "zx";
import { IMAGE, assertEngineAnswers, sweepTestLeftovers } from "../test-support/docker-engine.js";
import { sweepSwarmLeftovers } from "../test-support/one-node-swarm.js";

/**
 * A fresh machine: as root on Debian, .ci/engine.sh installs and starts Docker's engine, seeds the
 * base image and installs a compose client when missing (and does nothing when all is there).
 * Elsewhere the engine must already answer; assertEngineAnswers says how otherwise.
 */
async function setUpEngine(): Promise<void> {
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) return;
  const engine = await $({ nothrow: true, quiet: true })`bash .ci/engine.sh`;
  if (engine.exitCode !== 0) throw new Error(`bash .ci/engine.sh failed (exit ${engine.exitCode}):\n${engine.stderr.trim()}`);
}

/** Builds the image once per run, from the working tree, the way `npm run build:image` does. */
export async function setup(): Promise<void> {
  await setUpEngine();
  await assertEngineAnswers();
  await sweepSwarmLeftovers();
  await sweepTestLeftovers();
  const started = Date.now();
  const build = await $({ env: { ...process.env, IMAGE }, nothrow: true, quiet: true })`bash .ci/build-image.sh`;
  mkdirSync("image-tests/.logs", { recursive: true });
  writeFileSync("image-tests/.logs/build-image.log", `${build.stdout}\n${build.stderr}`);
  if (build.exitCode !== 0) {
    const tail = `${build.stdout}\n${build.stderr}`.trim().split("\n").slice(-40).join("\n");
    const hint = /pull access denied|not found: manifest|debian:trixie-slim/.test(tail)
      ? "\nThe base image is missing and no registry answers: run `bash .ci/engine.sh` to seed debian:trixie-slim."
      : "";
    throw new Error(`Building ${IMAGE} failed (exit ${build.exitCode}); last lines:\n${tail}${hint}`);
  }
  console.log(`built ${IMAGE} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export async function teardown(): Promise<void> {
  await sweepSwarmLeftovers();
  await sweepTestLeftovers();
}
