import { describe, expect, it } from "vitest";
import { renderTsungConfig } from "./tsung-config.js";

describe("renderTsungConfig", () => {
  const plan = {
    domain: "example.org",
    servers: [{ port: 40001 }, { port: 40002 }],
    accountsCsvPath: "/tmp/accounts.csv",
    users: 1000,
    arrivalPerSecond: 400,
    answerTimeoutMs: 30_000,
  };

  it("logs in over STARTTLS on every published port and closes", () => {
    const xml = renderTsungConfig({ ...plan, afterLogin: { kind: "close" } });
    expect(xml).toContain('<server host="127.0.0.1" port="40001" type="tcp"/>');
    expect(xml).toContain('<server host="127.0.0.1" port="40002" type="tcp"/>');
    expect(xml).toContain('<users maxnumber="1000" arrivalrate="400" unit="second"/>');
    expect(xml).toContain('duration="42"');
    expect(xml).toContain('<jabber type="starttls" ack="bidi_ack"/>');
    expect(xml).not.toContain("thinktime");
  });

  it("holds sessions with initial presence and a fixed think time", () => {
    const xml = renderTsungConfig({ ...plan, afterLogin: { kind: "hold", seconds: 900 } });
    expect(xml).toContain('<jabber type="presence:initial" ack="no_ack"/>');
    expect(xml).toContain('<thinktime value="900" random="false"/>');
  });
});
