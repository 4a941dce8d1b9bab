import { describe, expect, it } from "vitest";
import { isBenchContainerToRemove, parseTimestampedLine } from "./bench-docker.js";

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

describe("isBenchContainerToRemove", () => {
  const alive = (pid: number) => pid === 4242;
  const own = String(process.pid);

  it("should remove this run's containers at its end, and no other run's", () => {
    expect(isBenchContainerToRemove(own, "own", alive)).toBe(true);
    expect(isBenchContainerToRemove("4242", "own", alive)).toBe(false);
    expect(isBenchContainerToRemove("999999", "own", alive)).toBe(false);
  });

  it("should sweep what runs that are gone left at its start, and leave a live run's alone", () => {
    expect(isBenchContainerToRemove("999999", "leftovers", alive)).toBe(true);
    expect(isBenchContainerToRemove("1", "leftovers", alive)).toBe(true);
    expect(isBenchContainerToRemove("", "leftovers", alive)).toBe(true);
    expect(isBenchContainerToRemove("4242", "leftovers", alive)).toBe(false);
    expect(isBenchContainerToRemove(own, "leftovers", alive)).toBe(false);
  });
});
