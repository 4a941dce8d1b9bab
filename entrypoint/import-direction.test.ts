import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The entrypoint's folders in the order data flows through them: each imports only from the
 * folders before it. Top-level modules (settings, log, paths, listeners...) come before every
 * folder and import none; the modules that run the steps import from all of them: main.ts, and
 * warm-up.ts, which runs the first ones once while the image builds the startup snapshot.
 */
const FLOW = ["certificates", "config", "storage", "prosody", "turn", "renewal", "metrics"];
const STEP_RUNNERS = new Set(["main.ts", "warm-up.ts"]);

const THIS_FILE = fileURLToPath(import.meta.url);
const ENTRYPOINT = dirname(THIS_FILE);

/** Relative import specifiers: static imports, re-exports, side-effect imports and dynamic import(). */
function importsOf(source: string): string[] {
  const pattern = /^\s*(?:import|export)\b[^"';]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']|^\s*import\s*["'](\.{1,2}\/[^"']+)["']|\bimport\s*\(\s*["'](\.{1,2}\/[^"']+)["']/gm;
  return [...source.matchAll(pattern)].map((match) => (match[1] ?? match[2] ?? match[3])!);
}

/** "config" for "config/render-config.ts"; undefined for a top-level module. */
function folderOf(path: string): string | undefined {
  return path.includes("/") ? path.split("/")[0] : undefined;
}

/**
 * Every import that goes up the flow, every cycle between folders, every top-level module that
 * imports a folder and every folder with no place in FLOW. `files` maps paths relative to
 * entrypoint/ (posix) to their source.
 */
export function importProblems(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const edges = new Map<string, Set<string>>();
  const flow = FLOW.join(" -> ");
  for (const folder of new Set([...files.keys()].map(folderOf))) {
    if (folder !== undefined && !FLOW.includes(folder)) problems.push(`entrypoint/${folder}/ has no place in the flow: add it to FLOW (${flow})`);
  }
  for (const [path, source] of files) {
    const from = folderOf(path);
    for (const specifier of importsOf(source)) {
      const target = posix.normalize(posix.join(posix.dirname(path), specifier));
      if (target.startsWith("..")) continue; // outside entrypoint/ (test support): not a step of the flow
      const to = folderOf(target);
      if (to === undefined || to === from) continue;
      if (from === undefined) {
        if (!STEP_RUNNERS.has(path)) problems.push(`entrypoint/${path} imports ${target}: a top-level module comes before every folder (${flow})`);
        continue;
      }
      edges.set(from, (edges.get(from) ?? new Set()).add(to));
      if (FLOW.includes(to) && FLOW.indexOf(to) > FLOW.indexOf(from)) {
        problems.push(`entrypoint/${path} imports ${target}: up the flow (${flow})`);
      }
    }
  }
  problems.push(...folderCycles(edges).map((cycle) => `import cycle between folders: ${cycle.join(" -> ")}`));
  return problems;
}

/** Each cycle in the folder graph once, starting from its first folder in FLOW order. */
function folderCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const cycles = new Map<string, string[]>();
  const visit = (path: string[]) => {
    for (const next of edges.get(path.at(-1)!) ?? []) {
      const seen = path.indexOf(next);
      if (seen === -1) {
        visit([...path, next]);
        continue;
      }
      const loop = path.slice(seen);
      const start = loop.indexOf([...loop].sort((a, b) => FLOW.indexOf(a) - FLOW.indexOf(b) || a.localeCompare(b))[0]!);
      const rotated = [...loop.slice(start), ...loop.slice(0, start)];
      cycles.set(rotated.join(" "), [...rotated, rotated[0]!]);
    }
  };
  for (const folder of edges.keys()) visit([folder]);
  return [...cycles.values()];
}

function entrypointSources(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(ENTRYPOINT, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const path = join(entry.parentPath, entry.name);
    if (path === THIS_FILE) continue; // its examples are imports on purpose
    files.set(path.slice(ENTRYPOINT.length + 1).split("\\").join("/"), readFileSync(path, "utf8"));
  }
  return files;
}

describe("import direction", () => {
  it("should have the entrypoint's folders import only down the flow, with no cycle between them", () => {
    const files = entrypointSources();
    expect(files.has("renewal/renewal.ts")).toBe(true);
    expect(importProblems(files)).toEqual([]);
  });

  it("should report an import up the flow and the cycle it closes", () => {
    const files = new Map([
      ["certificates/key-access.ts", `import type { CertificateFiles } from "../config/render-config.js";\n`],
      ["config/render-config.ts", `import type { Settings } from "../settings.js";\nimport { daysLeft } from "../certificates/check-certificate.js";\n`],
    ]);
    expect(importProblems(files)).toEqual([
      "entrypoint/certificates/key-access.ts imports config/render-config.js: up the flow (certificates -> config -> storage -> prosody -> turn -> renewal -> metrics)",
      "import cycle between folders: certificates -> config -> certificates",
    ]);
  });

  it("should see dynamic imports and re-exports", () => {
    const files = new Map([
      ["prosody/start-prosody.ts", `const { Renewal } = await import("../renewal/renewal.js");\n`],
      ["config/lua.ts", `export { verifyListeners } from "../prosody/verify-listeners.js";\n`],
    ]);
    expect(importProblems(files)).toEqual([
      "entrypoint/prosody/start-prosody.ts imports renewal/renewal.js: up the flow (certificates -> config -> storage -> prosody -> turn -> renewal -> metrics)",
      "entrypoint/config/lua.ts imports prosody/verify-listeners.js: up the flow (certificates -> config -> storage -> prosody -> turn -> renewal -> metrics)",
    ]);
  });

  it("should report a top-level module that imports a folder, and a folder with no place in the flow", () => {
    const files = new Map([
      ["settings.ts", `import { LISTENERS } from "./prosody/listeners.js";\n`],
      ["main.ts", `import { Renewal } from "./renewal/renewal.js";\n`],
      ["services/muc.ts", `import { log } from "../log.js";\n`],
    ]);
    expect(importProblems(files)).toEqual([
      "entrypoint/services/ has no place in the flow: add it to FLOW (certificates -> config -> storage -> prosody -> turn -> renewal -> metrics)",
      "entrypoint/settings.ts imports prosody/listeners.js: a top-level module comes before every folder (certificates -> config -> storage -> prosody -> turn -> renewal -> metrics)",
    ]);
  });
});
