import { Command, type Interfaces } from '@oclif/core';
import type { DaemonConfig, DaemonKind } from '../config/kind.js';
import { CmgError, exitCodeFor } from '../errors.js';
import { type CmtraceLogger, closeAllLogs, type LoggerOptions, openLogger } from '../logs/logger.js';

export type CmgFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof CmgCommand)['baseFlags'] & T['flags']
>;
export type CmgArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/**
 * What every cmg command shares: flag parsing, `--json` (one JSON document on
 * stdout and nothing else there), human messages on stderr, config loading,
 * CMTrace logging with a flush on every way out, and the single place where an
 * error becomes a message and an exit code.
 *
 * A command implements `run()` returning its result as data, and `render()`
 * to show that result to a person; `--json` prints the result itself.
 */
export abstract class CmgCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  protected flags!: CmgFlags<T>;
  protected args!: CmgArgs<T>;
  /** Positional arguments beyond the declared ones (commands with `strict = false`, such as a list of files). */
  protected operands: string[] = [];

  override async init(): Promise<void> {
    await super.init();
    const { flags, args, argv } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof CmgCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
      enableJsonFlag: this.ctor.enableJsonFlag,
    });
    this.flags = flags as CmgFlags<T>;
    this.args = args as CmgArgs<T>;
    this.operands = argv as string[];
  }

  /**
   * The exit code of a result that was printed: a check that ran and found
   * problems (`cmg certs verify`) prints its findings and exits 1.
   */
  protected exitCodeOf(_result: Awaited<ReturnType<this['run']>>): number {
    return 0;
  }

  /** Shows the result to a person (stdout). Not called with --json. */
  protected abstract render(result: Awaited<ReturnType<this['run']>>): void;

  /**
   * Loads a gateway or connection point config once into its typed form; a
   * bad file is a ConfigError (exit 2). The config code is imported here, not
   * at the top: its YAML and schema libraries take 0.15 s to load, which every
   * other command (`cmg logs`, `cmg certs`) would pay at each start.
   */
  protected async loadConfig(file: string, kind?: DaemonKind): Promise<DaemonConfig> {
    const { loadDaemonConfig } = await import('../config/kind.js');
    return loadDaemonConfig(file, kind);
  }

  /**
   * Opens a CMTrace log for this command. Every log is flushed and closed when
   * the command ends, whatever the outcome, and on SIGINT/SIGTERM the command
   * leaves through process.exit so that queued lines are still written.
   */
  protected openLog(dir: string, file: string, component: string, options?: LoggerOptions): CmtraceLogger {
    this.installSignalHandlers();
    return openLogger(dir, file, component, options);
  }

  /** What SIGINT/SIGTERM do once a log is open: exit 130/143 (logs flush on exit). Daemons drain first. */
  protected onSignal(signal: NodeJS.Signals): void | Promise<void> {
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }

  private signalsInstalled = false;

  protected installSignalHandlers(): void {
    if (this.signalsInstalled) return;
    this.signalsInstalled = true;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void this.onSignal(signal));
  }

  override async finally(err: Error | undefined): Promise<void> {
    await closeAllLogs();
    await super.finally(err);
  }

  /** Progress and notes for people: always stderr, so stdout stays data. */
  protected note(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }

  override toSuccessJson(result: unknown): unknown {
    return result;
  }

  override async _run<R>(): Promise<R> {
    const result = (await super._run()) as R;
    if (result !== undefined && process.exitCode === undefined) {
      if (!this.jsonEnabled()) this.render(result as Awaited<ReturnType<this['run']>>);
      process.exitCode = this.exitCodeOf(result as Awaited<ReturnType<this['run']>>);
    }
    return result;
  }

  /** The one place an error becomes a message and an exit code. Never a stack trace. */
  override async catch(err: Error & { exitCode?: number }): Promise<void> {
    process.exitCode = exitCodeFor(err);
    const json = describeError(err);
    if (this.jsonEnabled()) this.logJson({ error: json });
    const hint = json.hint === undefined ? '' : `\n${json.hint}`;
    process.stderr.write(`Error: ${json.message}${hint}\n`);
    if (process.env.CMG_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
  }
}

export interface ErrorJson {
  code: string;
  message: string;
  hint?: string;
  [key: string]: unknown;
}

/** Any error as the JSON a script reads: cmg's own carry their code; oclif's parse errors are usage errors. */
export function describeError(err: unknown): ErrorJson {
  if (err instanceof CmgError) return err.toJSON() as ErrorJson;
  const message = err instanceof Error ? err.message : String(err);
  if (exitCodeFor(err) === 2) {
    return {
      code: 'CMG_USAGE',
      message: firstParagraph(message),
      hint: 'See --help for the flags and arguments.',
    };
  }
  return {
    code: 'CMG_INTERNAL',
    message,
    hint: 'This is a bug in cmg: please report it with the command line and CMG_DEBUG=1 output.',
  };
}

/** oclif appends its own "See more help with --help" paragraph; keep only the message. */
function firstParagraph(message: string): string {
  return message.split(/\n\s*See more help with/)[0]?.trim() ?? message;
}
