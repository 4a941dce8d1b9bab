import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadSettings } from "../settings.js";
import { TURN_SECRET_FILE, turnSecret } from "./turn-secret.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "turn-secret-"));
  dirs.push(dir);
  return dir;
};
const settingsWith = (env: Record<string, string> = {}) => loadSettings({ XMPP_DOMAINS: "example.org", ...env });

describe("turnSecret", () => {
  it("should generate the secret once, keep it in the data volume for Prosody's account only, and reuse it", () => {
    const dir = dataDir();
    const first = turnSecret(settingsWith(), dir)!;
    expect(first.source).toBe(`generated and kept in ${join(dir, TURN_SECRET_FILE)}`);
    expect(first.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stat = statSync(join(dir, TURN_SECRET_FILE));
    expect([stat.mode & 0o777, stat.uid, stat.gid]).toEqual([0o600, 101, 101]);
    expect(readFileSync(join(dir, TURN_SECRET_FILE), "utf8")).toBe(`${first.secret}\n`);

    expect(turnSecret(settingsWith(), dir)).toEqual({ secret: first.secret, source: `kept in ${join(dir, TURN_SECRET_FILE)}` });
  });

  it("should take a given secret and write nothing, and have none with TURN off", () => {
    const dir = dataDir();
    expect(turnSecret(settingsWith({ XMPP_TURN_SECRET: "0123456789abcdefghij" }), dir)).toEqual({ secret: "0123456789abcdefghij", source: "from XMPP_TURN_SECRET" });
    expect(turnSecret(settingsWith({ XMPP_TURN: "off" }), dir)).toBeUndefined();
    expect(() => statSync(join(dir, TURN_SECRET_FILE))).toThrow();
  });
});
