import { describe, expect, it } from "vitest";
import { luaString, luaValue } from "./lua.js";

describe("luaString", () => {
  it("should escape quotes, backslashes, newlines and control characters", () => {
    expect(luaString('a"b\\c\nd\u0001')).toBe('"a\\"b\\\\c\\nd\\001"');
  });

  it("should leave a closing bracket sequence harmless", () => {
    expect(luaString("]]--")).toBe('"]]--"');
  });
});

describe("luaValue", () => {
  it("should write arrays as sequences and objects as tables with sorted keys", () => {
    expect(luaValue([{ to: "console", levels: { min: "info" } }])).toBe('{ { levels = { min = "info" }, to = "console" } }');
  });

  it("should quote keys that are not identifiers", () => {
    expect(luaValue({ "a-b": true })).toBe('{ ["a-b"] = true }');
  });
});
