// Recovery overlaps reading a backup with writing it: one statement in flight while the caller reads and prepares
// the next batch (statements stay in order).
export class Pipeline {
  private inflight: Promise<void> | null = null;

  /** Waits for the statement in flight (throwing its error). */
  async drain(): Promise<void> {
    const inflight = this.inflight;
    this.inflight = null;
    if (inflight) await inflight;
  }

  /** Waits for the statement in flight, then starts `work` without waiting for it. */
  async start(work: () => Promise<void>, beforeStart: () => void): Promise<void> {
    await this.drain();
    beforeStart();
    const running = work();
    running.catch(() => {}); // observed by the next drain(); not an unhandled rejection meanwhile
    this.inflight = running;
  }

  /** For `finally`: lets a statement still in flight finish, ignoring its outcome (an error is already thrown). */
  async settle(): Promise<void> {
    await this.drain().catch(() => {});
  }
}
