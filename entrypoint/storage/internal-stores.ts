import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One store of one host in Prosody's file storage, and how much it holds. */
export interface InternalStore {
  /** As prosody-migrator spells it: `roster`, or `archive-archive` for an archive store. */
  migratorName: string;
  kind: "keyval" | "archive";
  /** Key-value: one per user (and one for the host's own data); archive: one per item. */
  records: number;
}

/** Prosody's datamanager writes every non-alphanumeric byte of a host, store or user as %xx. */
function decodeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Items in one archive file: each is one `item(...)` call in Prosody's list format. */
function itemsIn(path: string): number {
  return (readFileSync(path, "latin1").match(/^item\(/gm) ?? []).length;
}

function storesOfHost(hostDir: string): InternalStore[] {
  const stores = new Map<string, InternalStore>();
  const add = (name: string, kind: InternalStore["kind"], records: number) => {
    const migratorName = kind === "archive" ? `${name}-archive` : name;
    const store = stores.get(migratorName) ?? { migratorName, kind, records: 0 };
    store.records += records;
    stores.set(migratorName, store);
  };
  for (const entry of readdirSync(hostDir, { withFileTypes: true })) {
    const path = join(hostDir, entry.name);
    // A host's own data (no user): <host>/<store>.dat or .list.
    const own = /^(.+)\.(dat|list)$/.exec(entry.name);
    if (entry.isFile() && own) add(decodeName(own[1]!), own[2] === "list" ? "archive" : "keyval", own[2] === "list" ? itemsIn(path) : 1);
    if (!entry.isDirectory()) continue;
    for (const file of readdirSync(path, { withFileTypes: true })) {
      if (!file.isFile()) continue;
      if (file.name.endsWith(".dat")) add(decodeName(entry.name), "keyval", 1);
      else if (file.name.endsWith(".list")) add(decodeName(entry.name), "archive", itemsIn(join(path, file.name)));
    }
  }
  return [...stores.values()].filter((store) => store.records > 0).sort((a, b) => a.migratorName.localeCompare(b.migratorName));
}

/**
 * Every host and store with data in Prosody's file storage under `dataDir`, found on disk rather
 * than from a list, so a component or a store added by a module is migrated too. A host's
 * directory is its name with dots written %2e; the appliance's own entries have no dot.
 * Links are not followed: the volume is the user's.
 */
export function findInternalStores(dataDir: string): Map<string, InternalStore[]> {
  const hosts = new Map<string, InternalStore[]>();
  let entries: string[];
  try {
    entries = readdirSync(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return hosts;
    throw error;
  }
  for (const entry of entries.sort()) {
    if (!entry.includes("%2e")) continue;
    const path = join(dataDir, entry);
    if (!lstatSync(path).isDirectory()) continue;
    const stores = storesOfHost(path);
    if (stores.length > 0) hosts.set(decodeName(entry), stores);
  }
  return hosts;
}
