import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { writeCertificateRequest } from "./certificate-request.js";

describe("writeCertificateRequest", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("should write the names one a line, primary first, readable by certbot, replacing the old list", () => {
    const root = mkdtempSync(join(tmpdir(), "request-"));
    dirs.push(root);
    const dir = join(root, "request");
    writeCertificateRequest(dir, ["example.org", "example.net"]);
    const path = writeCertificateRequest(dir, ["example.org", "conference.example.org"]);
    expect(path).toBe(join(dir, "certificate-names"));
    expect(readFileSync(path, "utf8")).toBe("example.org\nconference.example.org\n");
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(["certificate-names"]);
  });
});
