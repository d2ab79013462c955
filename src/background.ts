/** Hears about work the daemon does on its own (off a timer, not for a request) that failed; it is tried again later. */
export type BackgroundFailure = (what: string, err: unknown) => void;

/**
 * Runs the steps of one kind of background work where a throw would end the process (a timer, an immediate). A step
 * that fails — a write refused by a full disk — is reported on the first failure of a streak only, so a disk that
 * stays full for an hour is one log line per kind of work, not one a second; the caller retries on its next tick.
 */
export class BackgroundWork {
  private failing = false;

  constructor(
    private readonly what: string,
    private readonly report: BackgroundFailure,
  ) {}

  /** Runs `step`; true when it succeeded. */
  run(step: () => void): boolean {
    try {
      step();
      this.failing = false;
      return true;
    } catch (err) {
      this.failed(err);
      return false;
    }
  }

  /** Records a failure of an asynchronous step. */
  failed(err: unknown): void {
    if (!this.failing) this.report(this.what, err);
    this.failing = true;
  }

  succeeded(): void {
    this.failing = false;
  }
}
