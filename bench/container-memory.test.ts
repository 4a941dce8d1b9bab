import { describe, expect, it } from "vitest";
import { processRole, summarizeProcesses } from "./container-memory.js";

describe("summarizeProcesses", () => {
  it("tells Prosody, the entrypoint and tini apart and leaves exec'd helpers out", () => {
    const rows = [
      { pid: 1, rssKb: 1_500, args: "/usr/bin/tini -- node /usr/local/lib/prosody-appliance/entrypoint/main.js" },
      { pid: 2, rssKb: 65_000, args: "node /usr/local/lib/prosody-appliance/entrypoint/main.js" },
      { pid: 3, rssKb: 21_000, args: "lua5.4 /usr/bin/prosody -F --config /etc/prosody/prosody.cfg.lua" },
      { pid: 4, rssKb: 9_000, args: "lua5.4 /usr/bin/prosodyctl shell c2s:count()" },
      { pid: 5, rssKb: 2_000, args: "/usr/bin/lua5.4 /usr/local/bin/appliance-healthcheck" },
    ];
    expect(summarizeProcesses(rows)).toEqual({ prosodyRssKb: 21_000, entrypointRssKb: 65_000, containerRssKb: 87_500 });
  });

  it("has no entrypoint in the baseline", () => {
    expect(processRole("lua5.4 /usr/bin/prosody -F --config /etc/prosody/baseline.cfg.lua")).toBe("prosody");
    expect(summarizeProcesses([{ pid: 1, rssKb: 20_000, args: "lua5.4 /usr/bin/prosody -F" }])).toEqual({
      prosodyRssKb: 20_000,
      containerRssKb: 20_000,
    });
  });
});
