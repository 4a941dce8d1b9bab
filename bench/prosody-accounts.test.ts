import { describe, expect, it } from "vitest";
import { accountsCsv, scramAccountRecord, storeDirectoryName } from "./prosody-accounts.js";

describe("scramAccountRecord", () => {
  it("matches what prosodyctl adduser wrote for the same password and salt", () => {
    // From /var/lib/prosody/example%2eorg/accounts/user1.dat after `prosodyctl adduser` (pass1).
    const record = scramAccountRecord("pass1", "e22d9ea6-44aa-4d4c-a9b3-c87a8c927f3a", 10_000);
    expect(record).toContain('["stored_key"] = "f661cf02bbfc8dd7277c036be67e54937f8dc038";');
    expect(record).toContain('["server_key"] = "bb2da54b135c02e178fd1ec9bced91f01627d271";');
    expect(record).toContain('["iteration_count"] = 10000;');
  });
});

describe("storeDirectoryName", () => {
  it("escapes dots like Prosody's datamanager", () => {
    expect(storeDirectoryName("example.org")).toBe("example%2eorg");
  });
});

describe("accountsCsv", () => {
  it("lists a range of accounts for tsung", () => {
    expect(accountsCsv(3, 4)).toBe("user3,bench-password\nuser4,bench-password\n");
  });
});
