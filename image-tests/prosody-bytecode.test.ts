import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startAppliance, type Appliance } from "./helpers/appliance.js";
import { starttlsOffered } from "../test-support/xmpp/starttls-offered.js";

// Prosody's Lua is compiled into the image (server/bytecode/); Prosody loads it from there, and a
// source that differs from what was compiled loads from source.
const CACHE_DIR = "/usr/local/lib/prosody-appliance/bytecode/cache";
const GENERATED_CONFIG = ["@/etc/prosody/prosody.cfg.lua", "@/run/prosody-appliance/global.cfg.lua", "@/run/prosody-appliance/hosts.cfg.lua"];

interface LoadedFrom {
  bytecode: number;
  /** Chunk name -> how many times it was compiled from source. */
  source: Record<string, number>;
}

/** Asks the running Prosody (prosodyctl shell) what the bytecode loader counted. */
async function loadedFrom(appliance: Appliance): Promise<LoadedFrom> {
  const lua =
    '>local s = require "appliance.bytecode"; local out = { "bytecode=" .. s.from_bytecode }; ' +
    "for name, n in pairs(s.from_source) do out[#out + 1] = name .. '=' .. n end; return table.concat(out, ' ')";
  const result = await appliance.exec(["prosodyctl", "shell", lua]);
  const line = /^Result: (.*)$/m.exec(result.stdout)?.[1];
  if (line === undefined) throw new Error(`prosodyctl shell gave no result: ${result.stdout}${result.stderr}`);
  const loaded: LoadedFrom = { bytecode: 0, source: {} };
  for (const pair of line.split(" ")) {
    const at = pair.lastIndexOf("=");
    const [name, count] = [pair.slice(0, at), Number(pair.slice(at + 1))];
    if (name === "bytecode") loaded.bytecode = count;
    else loaded.source[name] = count;
  }
  return loaded;
}

// util.envload.envload(code, name, env) as Prosody's plugin loader calls it, on a cached file whose
// first line reads a global: env becomes the chunk's _ENV, even when it is nil, as with load().
const ENVLOAD_PROBE = `
dofile "/usr/local/lib/prosody-appliance/bytecode/load-bytecode.lua"
local envload = package.loaded["prosody.util.envload"].envload
local path = "/usr/lib/prosody/util/envload.lua"
local file = io.open(path); local source = file:read("a"); file:close()
local with_env = envload(source, "@" .. path, { load = load, io = io })
local without_env = envload(source, "@" .. path, nil)
print("with env: " .. type(with_env().envload))
print("nil env: " .. tostring(select(2, pcall(without_env))))
print("from bytecode: " .. package.loaded["appliance.bytecode"].from_bytecode)
`;

describe("Prosody's code, compiled when the image was built", () => {
  const scratch = mkdtempSync(join(tmpdir(), "prosody-bytecode-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("should be what Prosody runs: only the generated config is compiled from source at start", async () => {
    await using appliance = await startAppliance();
    const loaded = await loadedFrom(appliance);
    expect(Object.keys(loaded.source).sort()).toEqual(GENERATED_CONFIG);
    // Prosody's libraries, its modules once per host, LuaSocket and LuaSec: well over 200 chunks.
    expect(loaded.bytecode).toBeGreaterThan(200);
  });

  it("should not stand in for a module you replace: your source is what loads", async () => {
    const original = await (async () => {
      await using probe = await startAppliance({ waitUntil: "started" });
      return (await probe.exec(["cat", "/usr/lib/prosody/modules/mod_uptime.lua"])).stdout;
    })();
    const edited = join(scratch, "mod_uptime.lua");
    writeFileSync(edited, `${original}\nmodule:log("info", "edited mod_uptime loaded");\n`);
    chmodSync(edited, 0o644);

    await using appliance = await startAppliance({ binds: [`${edited}:/usr/lib/prosody/modules/mod_uptime.lua:ro`] });
    expect(await appliance.logs()).toMatch(/^example\.org:uptime +info\tedited mod_uptime loaded$/m);
    const loaded = await loadedFrom(appliance);
    expect(loaded.source["@/usr/lib/prosody/modules/mod_uptime.lua"]).toBe(1);
    expect(Object.keys(loaded.source).sort()).toEqual([...GENERATED_CONFIG, "@/usr/lib/prosody/modules/mod_uptime.lua"].sort());
  });

  it("should give a module the environment Prosody gives it, as compiling from source would", async () => {
    await using appliance = await startAppliance({ waitUntil: "started" });
    const probe = await appliance.exec(["lua5.4", "-e", ENVLOAD_PROBE]);
    expect(probe.stdout).toBe(
      "with env: function\n" +
        "nil env: /usr/lib/prosody/util/envload.lua:9: attempt to index a nil value (upvalue '_ENV')\n" +
        "from bytecode: 2\n",
    );
  });

  it("should still start, from source, when the compiled code is missing", async () => {
    await using appliance = await startAppliance({ hostConfig: { Tmpfs: { [CACHE_DIR]: "ro,size=64k" } } });
    expect(await starttlsOffered({ port: appliance.port(5222), domain: "example.org" })).toBe(true);
    const loaded = await loadedFrom(appliance);
    expect(loaded.bytecode).toBe(0);
    expect(loaded.source["@/usr/lib/prosody/modules/mod_c2s.lua"]).toBe(1);
  });
});
