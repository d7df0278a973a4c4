/**
 * Gives the memory malloc keeps after a burst of work back to the kernel once
 * the API has gone quiet (issue 16, idle RSS). glibc keeps one arena per
 * thread that allocates (the main thread, each launch worker, libuv's and
 * V8's threads) and holds freed blocks in them; after 40 launches the
 * supervisor's arenas held about 5 MB it no longer used, which
 * `malloc_trim(0)` returned in 6.5 ms. That blocks the main thread, so it
 * runs only in quiet periods, never while requests arrive: on the first quiet
 * tick after a burst, and once more on the sixth, because V8's memory reducer
 * frees its own malloc'd memory in the GCs it runs 8 s and more after the last
 * activity (a trim 35 s after a burst still returned 3.3 MB when only the
 * first one ran).
 */
export const LATE_TRIM_TICK = 6;

export class IdleTrimmer {
  /** Start-up work (recovery, workers loading) counts as a burst. */
  private busy = true;
  private quietTicks = 0;
  private requests = 0;
  private seenAtLastTick = 0;
  private readonly timer: NodeJS.Timeout;

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
      this.quietTicks = 0;
      return;
    }
    if (!this.busy) return;
    this.quietTicks += 1;
    if (this.quietTicks === 1 || this.quietTicks === LATE_TRIM_TICK) this.trim();
    if (this.quietTicks >= LATE_TRIM_TICK) this.busy = false;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
