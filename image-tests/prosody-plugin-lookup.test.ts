import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startAppliance } from "./helpers/appliance.js";

// server/bytecode/plugin-lookup.lua spares Prosody's plugin loader its failed opens and its
// metadata scan while Prosody starts. The probe (fixtures/plugin-lookup-probe.lua) asks the
// loader with it and a plain copy of it for every module in the image.
const PROBE = readFileSync(new URL("./fixtures/plugin-lookup-probe.lua", import.meta.url), "utf8");

describe("Prosody's plugin lookup while it starts", () => {
  it("should find every module, with its metadata, as Prosody's own lookup does, and a module added later once Prosody has started", async () => {
    await using appliance = await startAppliance();
    const probe = await appliance.exec(["lua5.4", "-"], { stdin: PROBE });
    expect(probe.stderr).toBe("");
    expect(probe.stdout).toMatch(/^same result for all \d{3} names: true\n/);
    expect(probe.stdout.replace(/^same result .*\n/, "")).toBe(
      "with metadata: mod_muc.lua {inherit_modules=mam}\n" +
        "spared the line-by-line scan: over 100\n" +
        // The negative control: the listing is in use while Prosody starts...
        "added before server-started: not found\n" +
        "plain loader: /tmp/plugin-lookup-probe/mod_added_later.lua\n" +
        // ...and no longer once it has started.
        "added after server-started: /tmp/plugin-lookup-probe/mod_added_later.lua\n" +
        "spared the scan after server-started: 0\n",
    );
  });
});
