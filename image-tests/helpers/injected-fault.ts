import { IMAGE, docker } from "../../test-support/docker-engine.js";

/** The file whose appearance sets the injected fault off (removed first, so a restart runs clean). */
export const FAULT_TRIGGER = "/run/appliance-test-fault";

/**
 * Written just before the fault runs: proof that it was taken. The trigger's absence is no proof,
 * since a check can run before the command that creates the trigger.
 */
export const FAULT_TAKEN = "/run/appliance-test-fault-taken";

const BUNDLE = "/usr/local/lib/prosody-appliance/entrypoint.cjs";

/**
 * The image's own ENTRYPOINT (tini, Node and its flags) with a fault injected and no product hook:
 * the bundle runs as a plain script (entrypoint/snapshot.ts), not from the startup snapshot, and
 * `fault` (JavaScript) runs on the entrypoint's event loop once FAULT_TRIGGER exists.
 */
export async function entrypointWithFault(fault: string, image = IMAGE): Promise<string[]> {
  const entrypoint = (await docker.getImage(image).inspect()).Config.Entrypoint as string[];
  const blob = entrypoint.indexOf("--snapshot-blob");
  if (blob < 0) throw new Error(`the image's ENTRYPOINT has no --snapshot-blob to replace: ${entrypoint.join(" ")}`);
  const script = [
    `require(${JSON.stringify(BUNDLE)});`,
    `const fs = require("node:fs");`,
    `setInterval(() => {`,
    `  if (!fs.existsSync(${JSON.stringify(FAULT_TRIGGER)})) return;`,
    `  fs.rmSync(${JSON.stringify(FAULT_TRIGGER)});`,
    `  fs.writeFileSync(${JSON.stringify(FAULT_TAKEN)}, "");`,
    `  ${fault}`,
    `}, 50).unref();`,
  ].join("\n");
  return [...entrypoint.slice(0, blob), ...entrypoint.slice(blob + 2), "-e", script];
}
