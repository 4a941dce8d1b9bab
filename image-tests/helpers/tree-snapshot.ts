import { lstatSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";

/** Mode and owner of every entry under `root`, keyed by relative path, for before/after diffs. */
export function snapshotTree(root: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (path: string) => {
    const stat = lstatSync(path);
    entries[relative(root, path) || "."] = `${(stat.mode & 0o7777).toString(8).padStart(4, "0")} ${stat.uid}:${stat.gid}`;
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(root);
  return entries;
}

/** Entries whose mode or owner differ, as "path: before -> after". */
export function treeChanges(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys({ ...before, ...after })
    .filter((path) => before[path] !== after[path])
    .sort()
    .map((path) => `${path}: ${before[path] ?? "(none)"} -> ${after[path] ?? "(none)"}`);
}
