import { Command, type Interfaces } from '@oclif/core';
import { CmgError, exitCodeFor } from '../errors.js';

export type CmgFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof CmgCommand)['baseFlags'] & T['flags']
>;
export type CmgArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/**
 * What every cmg command shares: flag parsing, `--json` (one JSON document on
 * stdout and nothing else there), human messages on stderr, and the single
 * place where an error becomes a message and an exit code.
 *
 * A command implements `run()` returning its result as data, and `render()`
 * to show that result to a person; `--json` prints the result itself.
 */
export abstract class CmgCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  protected flags!: CmgFlags<T>;
  protected args!: CmgArgs<T>;

  override async init(): Promise<void> {
    await super.init();
    const { flags, args } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof CmgCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
      enableJsonFlag: this.ctor.enableJsonFlag,
    });
    this.flags = flags as CmgFlags<T>;
    this.args = args as CmgArgs<T>;
  }

  /** Shows the result to a person (stdout). Not called with --json. */
  protected abstract render(result: Awaited<ReturnType<this['run']>>): void;

  override async finally(err: Error | undefined): Promise<void> {
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
    if (result !== undefined && process.exitCode === undefined && !this.jsonEnabled()) {
      this.render(result as Awaited<ReturnType<this['run']>>);
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
