/** How many times and how hard each measurement runs. Everything is bounded by these numbers. */
export interface BenchProfile {
  name: "full" | "quick";
  /** Hard stop for the whole run. */
  deadlineMs: number;
  /** docker run -> verified TLS, per variant. */
  startRuns: number;
  /** Of those runs, how many also measure memory (after start, after the logins). */
  memoryRuns: number;
  settleMs: number;
  loginsForMemory: number;
  renewals: number;
  baselineRenewals: number;
  sessionsDuringRenewals: number;
  /** How long a renewal may take before the bench concludes there is no hot reload. */
  hotReloadWaitMs: number;
  loginRuns: number;
  loginsPerRun: number;
  loginArrivalPerSecond: number;
  messageRuns: number;
  messagePairs: number;
  messageWindow: number;
  messageSeconds: number;
  /** Cumulative session counts to step through. */
  sessionSteps: number[];
  sessionArrivalPerSecond: number;
  /** Soak: sessions held through renewals and a SIGHUP storm. */
  soakSessions: number;
  soakRenewals: number;
  soakHangups: number;
  soakHangupSeconds: number;
}

const SHARED = {
  settleMs: 5_000,
  loginsForMemory: 100,
  sessionsDuringRenewals: 10,
  hotReloadWaitMs: 10_000,
  loginArrivalPerSecond: 150,
  messageWindow: 10,
  sessionArrivalPerSecond: 80,
  soakHangups: 100,
  soakHangupSeconds: 10,
} as const;

export const FULL_PROFILE: BenchProfile = {
  ...SHARED,
  name: "full",
  deadlineMs: 30 * 60_000,
  // Single starts here spread over ±20%, more than the differences the start rows compare
  // (services on/off, two builds): 15 starts per variant cost ~1 min more than 7 and steady
  // the medians.
  startRuns: 15,
  memoryRuns: 3,
  renewals: 20,
  baselineRenewals: 10,
  loginRuns: 3,
  loginsPerRun: 1_500,
  messageRuns: 3,
  messagePairs: 100,
  messageSeconds: 10,
  sessionSteps: [1_000, 2_500, 5_000, 7_500, 10_000],
  soakSessions: 1_000,
  soakRenewals: 100,
};

export const QUICK_PROFILE: BenchProfile = {
  ...SHARED,
  name: "quick",
  deadlineMs: 12 * 60_000,
  settleMs: 3_000,
  startRuns: 3,
  memoryRuns: 1,
  renewals: 5,
  baselineRenewals: 3,
  loginRuns: 1,
  loginsPerRun: 300,
  messageRuns: 1,
  messagePairs: 50,
  messageSeconds: 5,
  sessionSteps: [500, 1_000],
  soakSessions: 300,
  soakRenewals: 20,
};
