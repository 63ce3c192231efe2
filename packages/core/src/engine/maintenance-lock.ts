/**
 * The maintenance lock: checkpoints and backups run one at a time, first asked first served.
 * A backup holds it past its pipeline turn, while its archive is written from a snapshot
 * that a checkpoint would otherwise delete (core §10 step 4); commits, queries and
 * registrations never take it, so they keep flowing meanwhile.
 *
 * A free lock is taken synchronously: a checkpoint or backup asked for before a write then
 * enqueues its pipeline turn before that write, exactly as when maintenance had no lock.
 */
export class MaintenanceLock {
  private held = false;
  /** Who waits, in arrival order; each is handed the lock directly by the one before. */
  private readonly waiting: Array<() => void> = [];
  private tail: Promise<void> = Promise.resolve();

  /** Runs `work` once the lock is free, holding it until `work` has settled. */
  run<T>(work: () => Promise<T>): Promise<T> {
    let result: Promise<T>;
    if (this.held) {
      result = new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.holding(work));
    } else {
      this.held = true;
      result = this.holding(work);
    }
    // First come, first served: the last one settled means every earlier one settled too.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once everything run so far has settled (never rejects). */
  idle(): Promise<void> {
    return this.tail;
  }

  private async holding<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.held = false;
    }
  }
}
