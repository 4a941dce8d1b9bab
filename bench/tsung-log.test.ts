import { describe, expect, it } from "vitest";
import { errorCounts, meanOfSample, parseTsungLog, totalCount } from "./tsung-log.js";

// Two dumps as tsung 1.7 writes them (trimmed).
const LOG = `# stats: dump at 1795555631
stats: users 20 20
stats: {cpu,"tsung_controller@127.0.0.1"} 1 36.7 0 36.7 36.7 0 0
stats: tr_login 12 200.0 5.5 303.4 97.0 0 0
stats: error_timeout 1 1
stats: connected 12 12
# stats: dump at 1795555632
stats: users 20 20
stats: tr_login 8 100.0 3.1 150.2 80.1 200.0 12
stats: error_timeout 2 3
stats: error_connect_econnrefused 1 1
stats: connected -2 10
EndMonitor:{1795,555633,179393}
`;

describe("parseTsungLog", () => {
  it("reads each dump's time and stats, skipping node monitors", () => {
    const dumps = parseTsungLog(LOG);
    expect(dumps.map((dump) => dump.at)).toEqual([1795555631, 1795555632]);
    expect(dumps[0]!.values.get("tr_login")).toEqual([12, 200, 5.5, 303.4, 97, 0, 0]);
    expect([...dumps[0]!.values.keys()]).not.toContain('{cpu,"tsung_controller@127.0.0.1"}');
    expect(dumps[1]!.values.get("connected")).toEqual([-2, 10]);
  });

  it("sums interval counts, errors by name, and weights sample means by count", () => {
    const dumps = parseTsungLog(LOG);
    expect(totalCount(dumps, "tr_login")).toBe(20);
    expect(errorCounts(dumps)).toEqual(new Map([["error_timeout", 3], ["error_connect_econnrefused", 1]]));
    expect(meanOfSample(dumps, "tr_login")).toBeCloseTo((12 * 200 + 8 * 100) / 20);
  });
});
