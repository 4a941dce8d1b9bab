import { describe, expect, it } from "vitest";
import { steadyRate } from "./steady-rate.js";

describe("steadyRate", () => {
  it("is the rate of evenly spaced events", () => {
    const times = Array.from({ length: 101 }, (_, index) => index * 10); // 100 per second
    expect(steadyRate(times)).toBeCloseTo(100);
  });

  it("is not dragged down by a straggler", () => {
    const times = [...Array.from({ length: 100 }, (_, index) => index * 10), 60_000];
    expect(steadyRate(times)).toBeCloseTo(100, 0);
  });

  it("needs a few events", () => {
    expect(steadyRate([1, 2])).toBeUndefined();
  });
});
