import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/**
 * The baseline is deliberately a hand-written, bare Prosody config (no entrypoint, no Include),
 * so it cannot share a file with the image's. What it must share is every setting of the image's
 * static part: this test fails when one of them changes on one side only.
 */
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

/** Global `name = value` statements before the first VirtualHost or Include, values without whitespace. */
function globalSettings(lua: string): Map<string, string> {
  const settings = new Map<string, string>();
  let current: { name: string; value: string; depth: number } | undefined;
  for (const rawLine of lua.split("\n")) {
    const line = rawLine.replace(/--.*$/, "").trim();
    if (!line) continue;
    if (!current) {
      if (/^(VirtualHost|Include)\b/.test(line)) break;
      // A one-line Lua local (a value two settings share) is not a setting; the settings that use it are compared.
      if (/^local\s+\w+\s*=\s*[^{]*(\{[^{}]*\})?[^{}]*$/.test(line)) continue;
      const statement = /^(\w+)\s*=\s*(.*)$/.exec(line);
      if (!statement) throw new Error(`not a global setting: ${rawLine}`);
      current = { name: statement[1]!, value: "", depth: 0 };
    }
    const value = current.value ? line : line.replace(/^\w+\s*=\s*/, "");
    current.value += value.replace(/\s+/g, "");
    current.depth += (value.match(/\{/g) ?? []).length - (value.match(/\}/g) ?? []).length;
    if (current.depth === 0) {
      settings.set(current.name, current.value);
      current = undefined;
    }
  }
  return settings;
}

const modules = (list: string) => [...list.matchAll(/"([\w-]+)"/g)].map((m) => m[1]!);

// The baseline renews by restarting Prosody (bench/measure-renewal.ts), so it needs no hot-reload fix.
// It does load mod_appliance_gc: the start's collector is Prosody tuning, not the entrypoint's cost.
const APPLIANCE_ONLY_MODULES = ["appliance_tls_reload"];

describe("bench/baseline/prosody.cfg.lua", () => {
  const image = globalSettings(read("server/prosody.cfg.lua"));
  const baseline = globalSettings(read("bench/baseline/prosody.cfg.lua"));

  it("should set every global setting of server/prosody.cfg.lua to the same value", () => {
    const differing = [...image]
      .filter(([name]) => name !== "modules_enabled")
      .filter(([name, value]) => baseline.get(name) !== value)
      .map(([name, value]) => `${name}: image ${value}, baseline ${baseline.get(name) ?? "(unset)"}`);
    expect(differing).toEqual([]);
    expect(image.size).toBeGreaterThan(15);
  });

  it("should enable the image's modules, in order, but for the appliance's own reload fix", () => {
    const imageModules = modules(image.get("modules_enabled") ?? "");
    expect(imageModules).toEqual(expect.arrayContaining(APPLIANCE_ONLY_MODULES));
    expect(modules(baseline.get("modules_enabled") ?? "")).toEqual(imageModules.filter((name) => !APPLIANCE_ONLY_MODULES.includes(name)));
  });
});
