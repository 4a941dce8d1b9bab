import { ratioOf, type Summary } from "./summary-stats.js";

/** A target from the issue: on the appliance's median, or on its ratio to the baseline. */
export interface Goal {
  on: "appliance" | "ratio";
  atMost?: number;
  atLeast?: number;
}

export interface ResultRow {
  /** What was measured, with its unit, e.g. "docker run → verified TLS on 5223 (s)". */
  metric: string;
  appliance?: Summary;
  baseline?: Summary;
  /** Decimals; by default chosen from the magnitude. */
  digits?: number;
  goal?: Goal;
  /** Shown after the metric, e.g. why a value is missing or how it was measured. */
  note?: string;
}

export interface ResultSection {
  title: string;
  rows: ResultRow[];
}

const HEADER = ["Measurement", "Appliance median", "min", "max", "Baseline median", "min", "max", "Ratio", "Goal"];

export function renderResultsTable(sections: readonly ResultSection[]): string {
  const lines = [tableLine(HEADER), tableLine(HEADER.map((_, index) => (index === 0 ? "---" : "---:")))];
  for (const section of sections) {
    lines.push(tableLine([`**${section.title}**`, ...HEADER.slice(1).map(() => "")]));
    for (const row of section.rows) lines.push(tableLine(rowCells(row)));
  }
  return lines.join("\n");
}

function rowCells(row: ResultRow): string[] {
  const metric = row.note ? `${row.metric} — ${row.note}` : row.metric;
  const ratio = ratioOf(row.appliance, row.baseline);
  return [
    metric,
    ...summaryCells(row.appliance, row.digits),
    ...summaryCells(row.baseline, row.digits),
    ratio === undefined ? "—" : `${ratio.toFixed(2)}×`,
    goalCell(row.goal, row.appliance, ratio),
  ];
}

function summaryCells(summary: Summary | undefined, digits: number | undefined): string[] {
  if (!summary) return ["—", "", ""];
  if (summary.count === 1) return [formatNumber(summary.median, digits), "", ""];
  return [summary.median, summary.min, summary.max].map((value) => formatNumber(value, digits));
}

export function goalCell(goal: Goal | undefined, appliance: Summary | undefined, ratio: number | undefined): string {
  if (!goal) return "";
  const target =
    goal.atMost !== undefined ? `≤ ${goal.atMost}` : goal.atLeast !== undefined ? `≥ ${goal.atLeast}` : "";
  const label = goal.on === "ratio" ? `${target}×` : target;
  const value = goal.on === "ratio" ? ratio : appliance?.median;
  if (value === undefined) return `${label}: not measured`;
  const met =
    (goal.atMost === undefined || value <= goal.atMost) && (goal.atLeast === undefined || value >= goal.atLeast);
  return `${label}: ${met ? "met" : "**missed**"}`;
}

export function formatNumber(value: number, digits?: number): string {
  const decimals = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3);
  return value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function tableLine(cells: readonly string[]): string {
  return `| ${cells.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`;
}
