/** The least-squares slope of `values` against their index: one noisy sample does not decide it. */
export function slope(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  values.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return num / den;
}

/**
 * Growth per step once warmed up: the slope over the second half of the samples. The first
 * steps fill what a process keeps once (V8's old space up to its first full GC, malloc arenas,
 * lazily loaded modules); a leak goes on growing after them, warm-up does not.
 */
export function growthPerStep(values: readonly number[]): number {
  return slope(values.slice(Math.floor(values.length / 2)));
}
