/** One "# stats: dump at T" block of tsung.log: every stats line by name, as numbers. */
export interface TsungDump {
  /** Unix seconds. */
  at: number;
  values: Map<string, number[]>;
}

/**
 * Parses tsung.log. For counters and samples the first number is the count in that interval
 * (samples: count mean stddev max min mean_total count_before; counters: count total).
 * Lines about monitored nodes ({cpu,"node"} ...) are skipped.
 */
export function parseTsungLog(text: string): TsungDump[] {
  const dumps: TsungDump[] = [];
  let current: TsungDump | undefined;
  for (const line of text.split("\n")) {
    const header = /^# stats: dump at (\d+)/.exec(line);
    if (header) {
      current = { at: Number(header[1]), values: new Map() };
      dumps.push(current);
      continue;
    }
    const stat = /^stats: ([\w:.-]+) ([\d.eE+ -]+)$/.exec(line.trim());
    if (stat && current) current.values.set(stat[1]!, stat[2]!.trim().split(/\s+/).map(Number));
  }
  return dumps;
}

/** Sum of the per-interval counts of one counter or sample over the whole run. */
export function totalCount(dumps: readonly TsungDump[], name: string): number {
  return dumps.reduce((sum, dump) => sum + (dump.values.get(name)?.[0] ?? 0), 0);
}

/** Total of every error_* counter, by name. */
export function errorCounts(dumps: readonly TsungDump[]): Map<string, number> {
  const errors = new Map<string, number>();
  for (const dump of dumps) {
    for (const [name, numbers] of dump.values) {
      if (name.startsWith("error_")) errors.set(name, (errors.get(name) ?? 0) + (numbers[0] ?? 0));
    }
  }
  return errors;
}

/** Mean of a sample over the run (e.g. a transaction's duration in ms), weighted by count. */
export function meanOfSample(dumps: readonly TsungDump[], name: string): number | undefined {
  let count = 0;
  let sum = 0;
  for (const dump of dumps) {
    const numbers = dump.values.get(name);
    if (!numbers || numbers.length < 7 || !numbers[0]) continue;
    count += numbers[0];
    sum += numbers[0] * numbers[1]!;
  }
  return count > 0 ? sum / count : undefined;
}
