import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDirPerTest } from "../../test-support/file-fixtures.js";
import { findInternalStores } from "./internal-stores.js";

const temp = tempDirPerTest();

function put(path: string, content = "return {};\n"): void {
  mkdirSync(join(temp.dir(), path, ".."), { recursive: true });
  writeFileSync(join(temp.dir(), path), content);
}

describe("findInternalStores", () => {
  it("should find every host's stores on disk, key-value and archive, with their counts", () => {
    put("example%2eorg/accounts/alice.dat");
    put("example%2eorg/accounts/bob.dat");
    put("example%2eorg/roster/alice.dat");
    put("example%2eorg/archive/alice.list", 'item({\n  key = "a";\n});\nitem({\n  key = "b";\n});\n');
    put("example%2eorg/offline/bob.list", 'item({ key = "c" });\n');
    put("example%2eorg/cron.dat"); // the host's own data
    put("conference%2eexample%2eorg/persistent.dat");
    put("conference%2eexample%2eorg/config/room%2d1.dat");
    put("self-signed/example.org.crt", "not a store");
    put("first-run-accounts", "alice@example.org\n");
    put("empty%2eorg/accounts/.keep");

    const found = findInternalStores(temp.dir());
    expect(Object.fromEntries(found)).toEqual({
      "conference.example.org": [
        { migratorName: "config", kind: "keyval", records: 1 },
        { migratorName: "persistent", kind: "keyval", records: 1 },
      ],
      "example.org": [
        { migratorName: "accounts", kind: "keyval", records: 2 },
        { migratorName: "archive-archive", kind: "archive", records: 2 },
        { migratorName: "cron", kind: "keyval", records: 1 },
        { migratorName: "offline-archive", kind: "archive", records: 1 },
        { migratorName: "roster", kind: "keyval", records: 1 },
      ],
    });
  });

  it("should find nothing in a fresh or missing volume, and follow no link out of it", () => {
    expect(findInternalStores(join(temp.dir(), "missing")).size).toBe(0);
    put("elsewhere/accounts/alice.dat");
    symlinkSync(join(temp.dir(), "elsewhere"), join(temp.dir(), "evil%2eorg"));
    mkdirSync(join(temp.dir(), "volume"));
    symlinkSync(join(temp.dir(), "elsewhere"), join(temp.dir(), "volume", "evil%2eorg"));
    expect(findInternalStores(join(temp.dir(), "volume")).size).toBe(0);
  });
});
