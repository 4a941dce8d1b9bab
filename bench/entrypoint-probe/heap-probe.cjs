// Loaded into the soak's entrypoint by the bench only (docker run --entrypoint ... --require):
// the image never contains it, so production has no way to force a GC. On SIGWINCH (which nothing
// in the appliance uses) it runs a full GC, then writes process.memoryUsage() as JSON, so that
// what the entrypoint retains can be told apart from heap that a GC would give back.
"use strict";
const { renameSync, writeFileSync } = require("node:fs");

const OUT = "/tmp/bench-entrypoint-memory.json";
process.on("SIGWINCH", () => {
  globalThis.gc();
  const usage = process.memoryUsage();
  writeFileSync(`${OUT}.tmp`, JSON.stringify({ ...usage, listeners: { SIGHUP: process.listenerCount("SIGHUP") } }));
  renameSync(`${OUT}.tmp`, OUT);
});
