import { describe, expect, it } from "vitest";
import { formatNumber, goalCell, renderResultsTable } from "./results-table.js";
import { summarize } from "./summary-stats.js";

describe("renderResultsTable", () => {
  it("prints median, min, max for both sides, the ratio and the goal's verdict", () => {
    const table = renderResultsTable([
      {
        title: "1. Start to ready",
        rows: [
          {
            metric: "docker run → verified TLS on 5223 (s)",
            appliance: summarize([0.52, 0.48, 0.61]),
            baseline: summarize([0.4, 0.38, 0.45]),
            goal: { on: "ratio", atMost: 1.3 },
          },
        ],
      },
    ]).split("\n");

    expect(table[0]).toBe(
      "| Measurement | Appliance median | min | max | Baseline median | min | max | Ratio | Goal |",
    );
    expect(table[2]).toContain("**1. Start to ready**");
    expect(table[3]).toBe(
      "| docker run → verified TLS on 5223 (s) | 0.520 | 0.480 | 0.610 | 0.400 | 0.380 | 0.450 | 1.30× | ≤ 1.3×: met |",
    );
  });

  it("shows a dash where a side was not measured, and the row's note", () => {
    const [, , , row] = renderResultsTable([
      { title: "3. Image", rows: [{ metric: "size (MB)", appliance: summarize([228]), note: "one build" }] },
    ]).split("\n");
    expect(row).toBe("| size (MB) — one build | 228 |  |  | — |  |  | — |  |");
  });
});

describe("goalCell", () => {
  it("flags a missed goal on the appliance's own value", () => {
    expect(goalCell({ on: "appliance", atMost: 60 }, summarize([88]), undefined)).toBe("≤ 60: **missed**");
    expect(goalCell({ on: "appliance", atLeast: 1 }, undefined, undefined)).toBe("≥ 1: not measured");
  });
});

describe("formatNumber", () => {
  it("uses fewer decimals for larger numbers, with thousands separators", () => {
    expect(formatNumber(10_000)).toBe("10,000");
    expect(formatNumber(12.345)).toBe("12.3");
    expect(formatNumber(0.0421)).toBe("0.042");
    expect(formatNumber(3, 0)).toBe("3");
  });
});
