/** Timers a heartbeat runs on; tests drive them by hand. */
export interface HeartbeatTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realTimers: HeartbeatTimers = {
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref();
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface HeartbeatOptions {
  intervalMs: number;
  /** Sends one ping; calls back when the peer answered (or with an error). */
  ping(done: (err?: Error | null) => void): void;
  /** The peer missed its heartbeat: the channel is dead, even if its socket looks open. */
  onDead(reason: string): void;
  /**
   * Bytes received from the peer so far. When they grew since the ping went
   * out, the peer is alive and its answer is queued behind what it sent (a
   * busy channel, or a loaded machine where timers run before sockets are
   * read): the ping gets another interval instead of condemning the channel.
   */
  bytesRead?: () => number;
  timers?: HeartbeatTimers;
}

/**
 * Both ends ping each other every interval. A ping still unanswered at the
 * next tick, with nothing else received from the peer since it was sent,
 * means the peer is gone (frozen, or behind a network that silently drops):
 * a dead channel is detected within two intervals, while its socket may
 * still look open for minutes.
 */
export class Heartbeat {
  private outstanding = false;
  private readAtPing: number | undefined;
  private handle: unknown;
  private stopped = false;
  private readonly timers: HeartbeatTimers;

  constructor(private readonly options: HeartbeatOptions) {
    this.timers = options.timers ?? realTimers;
  }

  start(): void {
    this.handle = this.timers.setInterval(() => this.tick(), this.options.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearInterval(this.handle);
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.outstanding) {
      const read = this.options.bytesRead?.();
      if (read !== undefined && read !== this.readAtPing) {
        this.readAtPing = read;
        return;
      }
      this.stop();
      this.options.onDead(`no answer to a heartbeat within ${Math.round(this.options.intervalMs / 1000)} s`);
      return;
    }
    this.outstanding = true;
    this.readAtPing = this.options.bytesRead?.();
    this.options.ping((err) => {
      if (this.stopped) return;
      if (err) {
        this.stop();
        this.options.onDead(`heartbeat failed: ${err.message}`);
        return;
      }
      this.outstanding = false;
    });
  }
}
