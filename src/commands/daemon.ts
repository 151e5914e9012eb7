import { type Command, Flags } from '@oclif/core';
import type { CmtraceLogger } from '../logs/logger.js';
import { CmgCommand } from './base.js';

export interface DaemonResult {
  stoppedBy: string;
  uptimeSeconds: number;
}

/** Flags both daemons take besides --config. */
export const daemonFlags = {
  'print-systemd-unit': Flags.boolean({
    description: 'print a hardened systemd unit that runs this command with this config, and exit',
  }),
  user: Flags.string({
    description: 'the service user in the printed unit (default: cmg)',
    dependsOn: ['print-systemd-unit'],
  }),
};

/**
 * What `cmg serve` and `cmg connect` share: run until SIGTERM/SIGINT, then
 * drain (stop taking work, let what is in flight finish) and exit 0. A
 * second signal exits at once. SIGHUP reloads.
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
   * restarts it (logs are flushed on exit). SIGHUP calls `reload`.
   */
  protected logCrashes(log: CmtraceLogger, reload: () => Promise<unknown>): void {
    const crash = (err: unknown) => {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      log.error(`stopping on an unexpected error (a bug in cmg; please report it with this log): ${text}`);
      process.stderr.write(`cmg: unexpected error, stopping: ${text}\n`);
      process.exit(1);
    };
    process.on('uncaughtException', crash);
    process.on('unhandledRejection', crash);
    let reloading = Promise.resolve<unknown>(undefined);
    process.on('SIGHUP', () => {
      log.info('SIGHUP: reloading certificates');
      // One reload at a time, in order: two quick SIGHUPs must not interleave.
      reloading = reloading.then(reload, reload);
    });
  }

  protected async systemdUnit(
    command: 'serve' | 'connect',
    configFile: string,
    what: string,
    logDir: string,
    user: string | undefined,
    drainSeconds: number,
    passphraseEnv: string | undefined,
  ): Promise<string> {
    const { systemdUnit, currentExec } = await import('../service/systemd.js');
    return systemdUnit({
      command,
      what,
      configFile,
      logDir,
      exec: currentExec(),
      user: user ?? 'cmg',
      passphraseEnv,
      stopTimeoutSeconds: drainSeconds + 15,
    });
  }

  protected result(stoppedBy: string): DaemonResult {
    return { stoppedBy, uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000) };
  }

  protected render(result: DaemonResult | string): void {
    if (typeof result === 'string') process.stdout.write(result);
    else this.note(`stopped by ${result.stoppedBy} after ${result.uptimeSeconds} s`);
  }
}
