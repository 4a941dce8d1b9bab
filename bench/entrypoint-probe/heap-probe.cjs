// Loaded into the soak's entrypoint by the bench only (docker run --entrypoint ... --require):
// the image never contains it, so production has no way to force a GC. On SIGWINCH (which nothing
// in the appliance uses) it runs a full GC, then writes process.memoryUsage() as JSON, so that
// what the entrypoint retains can be told apart from garbage a GC would give back.
// --expose-gc on the command line would change V8's flags, and Node would then refuse the image's
// startup snapshot (built with the entrypoint's flags): the flag is set here, after it is loaded.
"use strict";
const { renameSync, writeFileSync } = require("node:fs");
const { setFlagsFromString } = require("node:v8");
const { runInNewContext } = require("node:vm");

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");
const OUT = "/tmp/bench-entrypoint-memory.json";
process.on("SIGWINCH", () => {
  gc();
  writeFileSync(`${OUT}.tmp`, JSON.stringify(process.memoryUsage()));
  renameSync(`${OUT}.tmp`, OUT);
});
