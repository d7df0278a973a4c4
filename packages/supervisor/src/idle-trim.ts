/**
 * Gives the memory malloc keeps after a burst of work back to the kernel once
 * the API has gone quiet (issue 16, idle RSS). glibc keeps one arena per
 * thread that allocates (the main thread, each launch worker, libuv's pool)
 * and holds freed blocks in them; after 60 launches the supervisor's arenas
 * held 5.3 MB it no longer used, which `malloc_trim(0)` returned in 6.5 ms.
 * That blocks the main thread, so it runs only after a whole quiet period,
 * once per burst, never while requests arrive.
 */
export class IdleTrimmer {
  /** Start-up work (recovery, workers loading) counts as activity. */
  private busy = true;
  private requests = 0;
  private seenAtLastTick = 0;
  private readonly timer: NodeJS.Timeout;

  /** `trim` runs on a tick that saw no request after a tick that did (or after start-up). */
  constructor(private readonly trim: () => void, periodMs: number) {
    this.timer = setInterval(() => this.tick(), periodMs);
    this.timer.unref();
  }

  /** A request arrived. */
  activity(): void {
    this.requests += 1;
  }

  private tick(): void {
    if (this.requests !== this.seenAtLastTick) {
      this.seenAtLastTick = this.requests;
      this.busy = true;
      return;
    }
    if (!this.busy) return;
    this.busy = false;
    this.trim();
  }

  close(): void {
    clearInterval(this.timer);
  }
}
