/**
 * Events per second in the middle of a burst: between the 5th and the 95th percentile of the
 * event times, so the ramp-up and a few stragglers (a session that timed out and retried) do
 * not stretch the span.
 */
export function steadyRate(timesMs: readonly number[], trim = 0.05): number | undefined {
  if (timesMs.length < 3) return undefined;
  const sorted = [...timesMs].sort((a, b) => a - b);
  const first = Math.floor(trim * (sorted.length - 1));
  const last = Math.ceil((1 - trim) * (sorted.length - 1));
  const spanMs = sorted[last]! - sorted[first]!;
  return spanMs > 0 ? ((last - first) * 1000) / spanMs : undefined;
}
