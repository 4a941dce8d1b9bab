/**
 * Runs `task` once things have been quiet for `delayMs` after the last trigger, never two at
 * once: a trigger that arrives while the task runs schedules one more run after it. certbot
 * re-points four links one at a time; acting on the first would see a cert and key that do
 * not match yet.
 */
export class SerialDebouncer<Reason> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private rerun = false;
  private reasons: Reason[] = [];

  constructor(
    private readonly task: (reasons: Reason[]) => Promise<void>,
    private readonly delayMs: number,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  trigger(reason: Reason): void {
    this.reasons.push(reason);
    if (this.running) {
      this.rerun = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), this.delayMs);
  }

  /** Runs now (after any run in progress), skipping the quiet period. */
  async flush(reason: Reason): Promise<void> {
    this.reasons.push(reason);
    clearTimeout(this.timer);
    while (this.running) await this.running;
    await this.run();
  }

  /** Resolves when no run is in progress or scheduled to follow it. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.rerun = false;
  }

  private async run(): Promise<void> {
    const reasons = this.reasons;
    this.reasons = [];
    this.running = this.task(reasons).catch(this.onError);
    await this.running;
    this.running = undefined;
    if (this.rerun) {
      this.rerun = false;
      this.timer = setTimeout(() => void this.run(), this.delayMs);
    }
  }
}
