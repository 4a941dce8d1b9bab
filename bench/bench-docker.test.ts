import { describe, expect, it } from "vitest";
import { parseTimestampedLine } from "./bench-docker.js";

describe("parseTimestampedLine", () => {
  it("reads Docker's nanosecond timestamps to the millisecond", () => {
    expect(parseTimestampedLine("2026-11-24T21:26:44.123456789Z c2s1 info\tAuthenticated as a@b")).toEqual({
      at: Date.UTC(2026, 10, 24, 21, 26, 44, 123),
      text: "c2s1 info\tAuthenticated as a@b",
    });
  });

  it("skips lines without a timestamp", () => {
    expect(parseTimestampedLine("no timestamp here")).toBeUndefined();
  });
});
