import { describe, expect, it } from "vitest";
import { growthPerStep, slope } from "./growth-per-step.js";

describe("growthPerStep", () => {
  it("should report no growth for memory that filled up in the first steps and then stayed", () => {
    const warmUp = [100, 140, 170, 190, 200, 200, 201, 199, 200, 200, 200];
    expect(slope(warmUp)).toBeGreaterThan(5);
    expect(Math.abs(growthPerStep(warmUp))).toBeLessThan(0.1);
  });

  it("should report the growth of a leak that goes on after the warm-up", () => {
    const leak = [100, 150, 160, 170, 180, 190, 200, 210, 220, 230, 240];
    expect(growthPerStep(leak)).toBeCloseTo(10, 6);
  });

  it("should report 0 for fewer than two samples", () => {
    expect([growthPerStep([]), growthPerStep([5])]).toEqual([0, 0]);
  });
});
