import { describe, expect, it } from "vitest";
import { checkCapabilities } from "./capabilities.js";
import { ConfigError } from "./errors.js";

const status = (capEff: string) => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`;

describe("checkCapabilities", () => {
  it("should accept root with CHOWN, DAC_OVERRIDE, KILL, SETGID and SETUID, and nothing more", () => {
    expect(checkCapabilities(status("00000000000000e3"), true)).toBe("root with CHOWN, DAC_OVERRIDE, KILL, SETGID, SETUID");
  });

  it("should name each missing capability, what it is for and how to add it", () => {
    let error: unknown;
    try {
      checkCapabilities(status("00000000000000c1"), true); // CHOWN, SETGID, SETUID
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "capability DAC_OVERRIDE is missing: the root entrypoint reaches into the prosody-owned data volume (TURN secret, first-run accounts, self-signed store).",
      "capability KILL is missing: the root entrypoint signals Prosody and coturn (reload, stop).",
      "Accepted: --cap-add for each (--cap-add DAC_OVERRIDE --cap-add KILL; compose: cap_add), or no root at all: --user 101:101 with mounts uid 101 can use (README, Security).",
    ]);
  });

  it("should need none without root", () => {
    expect(checkCapabilities(status("0000000000000000"), false)).toMatch(/: none needed$/);
  });
});
