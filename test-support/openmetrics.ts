/**
 * A strict parser of the OpenMetrics text format (what a Prometheus scrape with the OpenMetrics
 * Accept header reads): every sample belongs to the family declared by the `# TYPE` before it,
 * with a suffix its type allows; families are not split; labels are quoted and escaped; the
 * document ends with `# EOF`. Any deviation throws, naming the line.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: string;
  unit?: string;
  help?: string;
  samples: Sample[];
}

const SUFFIXES: Record<string, string[]> = {
  counter: ["_total", "_created"],
  gauge: [""],
  info: ["_info"],
  stateset: [""],
  unknown: [""],
  histogram: ["_bucket", "_count", "_sum", "_created"],
  gaugehistogram: ["_bucket", "_gcount", "_gsum"],
  summary: ["", "_count", "_sum", "_created"],
};
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parseOpenMetrics(text: string): Map<string, MetricFamily> {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines.at(-1) !== "# EOF") throw new Error(`the last line is ${JSON.stringify(lines.at(-1))}, not "# EOF"`);
  lines.pop();
  const families = new Map<string, MetricFamily>();
  let current: MetricFamily | undefined;
  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${JSON.stringify(line)})`;
    const meta = /^# (TYPE|UNIT|HELP) (\S+)(?: (.*))?$/.exec(line);
    if (meta) {
      const [, keyword, name, rest = ""] = meta as unknown as [string, string, string, string?];
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
      if (current?.name !== name) {
        if (families.has(name)) throw new Error(`${where}: family ${name} is split`);
        current = { name, type: "unknown", samples: [] };
        families.set(name, current);
      }
      if (keyword === "TYPE") {
        if (!(rest in SUFFIXES)) throw new Error(`${where}: unknown type`);
        current.type = rest;
      } else if (keyword === "UNIT") {
        // An empty unit (Prosody writes "# UNIT name " for unitless families) says there is none.
        if (rest !== "" && !name.endsWith(`_${rest}`)) throw new Error(`${where}: the name does not end with its unit`);
        if (rest !== "") current.unit = rest;
      } else current.help = rest;
      return;
    }
    if (line.startsWith("#")) throw new Error(`${where}: not a TYPE, UNIT or HELP line`);
    const sample = parseSample(line, where);
    if (!current || !SUFFIXES[current.type]!.some((suffix) => sample.name === current!.name + suffix)) {
      throw new Error(`${where}: ${sample.name} is not a sample of the family before it (${current ? `${current.name}, ${current.type}` : "none"})`);
    }
    current.samples.push(sample);
  });
  return families;
}

function parseSample(line: string, where: string): Sample {
  const nameEnd = line.search(/[{ ]/);
  if (nameEnd <= 0) throw new Error(`${where}: no value`);
  const name = line.slice(0, nameEnd);
  if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
  const labels: Record<string, string> = {};
  let at = nameEnd;
  if (line[at] === "{") {
    at += 1;
    while (line[at] !== "}") {
      const match = /^([^=]+)="/.exec(line.slice(at));
      if (!match || !LABEL_NAME.test(match[1]!)) throw new Error(`${where}: bad label at column ${at + 1}`);
      at += match[0].length;
      let value = "";
      for (;;) {
        const char = line[at];
        if (char === undefined) throw new Error(`${where}: unterminated label value`);
        at += 1;
        if (char === '"') break;
        if (char === "\\") {
          const escaped = line[at++];
          if (escaped === "n") value += "\n";
          else if (escaped === "\\" || escaped === '"') value += escaped;
          else throw new Error(`${where}: bad escape \\${escaped}`);
        } else value += char;
      }
      if (match[1]! in labels) throw new Error(`${where}: label ${match[1]} twice`);
      labels[match[1]!] = value;
      if (line[at] === ",") at += 1;
      else if (line[at] !== "}") throw new Error(`${where}: expected , or } at column ${at + 1}`);
    }
    at += 1;
  }
  const parts = line.slice(at).split(" ");
  if (parts[0] !== "" || parts.length < 2 || parts.length > 3) throw new Error(`${where}: expected " value [timestamp]"`);
  const raw = parts[1]!;
  const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : raw === "NaN" ? NaN : Number(raw);
  if (raw === "" || (Number.isNaN(value) && raw !== "NaN")) throw new Error(`${where}: ${JSON.stringify(raw)} is not a number`);
  return { name, labels, value };
}

/** The one sample of `family` whose labels include `labels`; throws if there is not exactly one. */
export function sampleOf(families: Map<string, MetricFamily>, family: string, labels: Record<string, string> = {}): Sample {
  const found = (families.get(family)?.samples ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${family} with ${JSON.stringify(labels)}`);
  return found[0]!;
}
