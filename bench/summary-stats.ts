export interface Summary {
  median: number;
  min: number;
  max: number;
  count: number;
}

/** Median, min and max of the runs of one measurement; undefined when nothing was measured. */
export function summarize(values: readonly number[]): Summary | undefined {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return undefined;
  const sorted = [...finite].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, count: sorted.length };
}

/** appliance / baseline, by medians; undefined when either side is missing or the baseline is 0. */
export function ratioOf(appliance: Summary | undefined, baseline: Summary | undefined): number | undefined {
  if (!appliance || !baseline || baseline.median === 0) return undefined;
  return appliance.median / baseline.median;
}
