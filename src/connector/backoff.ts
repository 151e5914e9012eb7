export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** In [0, 1); injectable so tests see exact delays. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter, capped: after n failures the delay is
 * drawn from [d/2, d] with d = min(max, base * 2^n). The jitter keeps many
 * connection points from reconnecting in lockstep after a gateway restart.
 */
export class Backoff {
  private failures = 0;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.random = options.random ?? Math.random;
  }

  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.baseMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.failures = 0;
  }

  get attempts(): number {
    return this.failures;
  }
}
