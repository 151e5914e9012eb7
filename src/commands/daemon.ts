import type { Command } from '@oclif/core';
import type { CmtraceLogger } from '../logs/logger.js';
import { CmgCommand } from './base.js';

export interface DaemonResult {
  stoppedBy: string;
  uptimeSeconds: number;
}

/** How long a stopping daemon lets requests in flight finish. */
export const STOP_GRACE_MS = 30_000;

/**
 * What `cmg serve` and `cmg connect` share: run until SIGTERM/SIGINT, then
 * drain (stop taking work, let what is in flight finish) and exit 0. A
 * second signal exits at once.
 */
export abstract class DaemonCommand<T extends typeof Command> extends CmgCommand<T> {
  private stopRequested: ((signal: string) => void) | undefined;
  private stopping = false;
  protected readonly startedAt = Date.now();

  /** Resolves with the signal that asked the daemon to stop. */
  protected untilStopped(): Promise<string> {
    return new Promise((resolve) => {
      this.stopRequested = resolve;
    });
  }

  protected override onSignal(signal: NodeJS.Signals): void {
    if (this.stopping || !this.stopRequested) {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    this.stopping = true;
    this.stopRequested(signal);
  }

  /**
   * A bug must not kill a daemon silently: the error and its stack go to the
   * daemon's log and stderr, then it exits 1 so that its service manager
   * restarts it. (Logs are flushed on exit.)
   */
  protected logCrashes(log: CmtraceLogger): void {
    const crash = (err: unknown) => {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      log.error(`stopping on an unexpected error (a bug in cmg; please report it with this log): ${text}`);
      process.stderr.write(`cmg: unexpected error, stopping: ${text}\n`);
      process.exit(1);
    };
    process.on('uncaughtException', crash);
    process.on('unhandledRejection', crash);
    // SIGHUP's default is to end the process: a daemon keeps running and says what it did.
    process.on('SIGHUP', () => void this.onReload(log));
  }

  /** SIGHUP. */
  protected onReload(log: CmtraceLogger): void | Promise<void> {
    log.warning('SIGHUP received: this version does not reload its certificates yet; nothing changed');
  }

  protected result(stoppedBy: string): DaemonResult {
    return { stoppedBy, uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000) };
  }

  protected render(result: DaemonResult): void {
    this.note(`stopped by ${result.stoppedBy} after ${result.uptimeSeconds} s`);
  }
}
