import { describe, expect, it } from "vitest";
import { loadSettings } from "../../settings.js";
import { calls } from "./calls.js";

const SECRET = "0123456789abcdefghij";
const settingsWith = (env: Record<string, string> = {}) => loadSettings({ XMPP_DOMAINS: "example.org, example.net", ...env });

describe("calls", () => {
  it("should hand out the built-in server at the primary domain: STUN/TURN on 3478 UDP and TCP, TURNS on 5349", () => {
    expect(calls(settingsWith(), SECRET)).toEqual({
      global: [
        ["turn_external_secret", SECRET],
        ["turn_external_host", "example.org"],
        ["turn_external_port", 3478],
        ["turn_external_tcp", true],
        ["turn_external_tls_port", 5349],
      ],
      hostModules: ["turn_external"],
    });
  });

  it("should hand out no TURNS under XMPP_TLS_PROFILE=modern: the built-in server speaks TLS 1.2 at most", () => {
    expect(calls(settingsWith({ XMPP_TLS_PROFILE: "modern" }), SECRET).global).toEqual([
      ["turn_external_secret", SECRET],
      ["turn_external_host", "example.org"],
      ["turn_external_port", 3478],
      ["turn_external_tcp", true],
    ]);
  });

  it("should hand out an external server as configured, without TURNS when it has none", () => {
    const settings = settingsWith({ XMPP_TURN: "external", XMPP_TURN_HOST: "turn.example.net", XMPP_TURN_PORT: "3479", XMPP_TURN_TLS_PORT: "none", XMPP_TURN_SECRET: SECRET });
    expect(calls(settings, SECRET).global).toEqual([
      ["turn_external_secret", SECRET],
      ["turn_external_host", "turn.example.net"],
      ["turn_external_port", 3479],
      ["turn_external_tcp", true],
    ]);
  });

  it("should add nothing with TURN off, and refuse to render TURN without its secret", () => {
    expect(calls(settingsWith({ XMPP_TURN: "off" }), undefined)).toEqual({});
    expect(() => calls(settingsWith(), undefined)).toThrow("TURN is on but no shared secret was given to the config");
  });
});
