import { startupSnapshot } from "node:v8";
import { run } from "./main.js";
import { warmUp } from "./warm-up.js";

// Debian's Node is built without a startup snapshot or code cache of its own, so a plain start
// compiles Node's bootstrap and then this bundle from source, every time. The image builds a
// V8 startup snapshot from this file instead (Dockerfile: node --build-snapshot): Node's
// bootstrap and every module here, already evaluated, restored in one step; run() is all that
// is left at start. The build also runs the first steps once (warm-up.ts), so that their code is
// compiled in the snapshot too. Started as a plain script (node dist/entrypoint.cjs) it runs directly.
if (startupSnapshot.isBuildingSnapshot()) {
  startupSnapshot.setDeserializeMainFunction(run);
  warmUp().catch((error: unknown) => {
    console.error(`the startup snapshot's warm-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  });
} else {
  run();
}
