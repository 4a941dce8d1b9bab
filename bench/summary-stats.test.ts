import { describe, expect, it } from "vitest";
import { ratioOf, summarize } from "./summary-stats.js";

describe("summarize", () => {
  it("takes the middle value of an odd number of runs", () => {
    expect(summarize([0.9, 0.3, 0.5])).toEqual({ median: 0.5, min: 0.3, max: 0.9, count: 3 });
  });

  it("averages the two middle values of an even number of runs", () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, count: 4 });
  });

  it("ignores runs that produced no number, and returns nothing for none", () => {
    expect(summarize([Number.NaN, 7])).toEqual({ median: 7, min: 7, max: 7, count: 1 });
    expect(summarize([])).toBeUndefined();
  });
});

describe("ratioOf", () => {
  it("divides the medians", () => {
    expect(ratioOf(summarize([1.3]), summarize([1]))).toBeCloseTo(1.3);
  });

  it("has no ratio without a baseline", () => {
    expect(ratioOf(summarize([1]), undefined)).toBeUndefined();
    expect(ratioOf(summarize([1]), summarize([0]))).toBeUndefined();
  });
});
