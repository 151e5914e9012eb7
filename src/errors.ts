/**
 * The one error hierarchy of cmg.
 *
 * Every failure that reaches a user is a `CmgError` with a stable `code`
 * (`CMG_...`) that scripts and tests match on, never on message text. The
 * message says what went wrong; `hint` says what to do next. Which exit code
 * a failure gets is decided in one place, `exitCodeFor()` below, from the
 * error's family: usage and configuration mistakes exit 2, everything else 1.
 */

export type ErrorFamily = 'usage' | 'failure';

export interface CmgErrorOptions {
  cause?: unknown;
  hint?: string;
}

export abstract class CmgError extends Error {
  abstract readonly code: string;
  abstract readonly family: ErrorFamily;
  readonly hint: string | undefined;

  constructor(message: string, options: CmgErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }

  /**
   * Fields beyond code/message/hint that a script may want (file, key, ...).
   * (Not named `details`: test runners such as uvu read `err.details` as a diff.)
   */
  jsonFields(): Record<string, unknown> {
    return {};
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...this.jsonFields(),
    };
  }
}

/** The command line itself is wrong: a flag, an argument, a combination. */
export class UsageError extends CmgError {
  readonly code: string;
  readonly family = 'usage' as const;
  constructor(message: string, options: CmgErrorOptions & { code?: string } = {}) {
    super(message, options);
    this.code = options.code ?? 'CMG_USAGE';
  }
}

/** One problem in a configuration file, located as precisely as the file allows. */
export interface ConfigIssue {
  /** Key path as an admin writes it: `clientAuth.trustedRootFiles[1]`; empty for the whole file. */
  path: string;
  message: string;
  /** The offending value as found in the file, when there is one. */
  value?: unknown;
  line?: number;
  column?: number;
}

/** A configuration file could not be used. Carries every problem found, not only the first. */
export class ConfigError extends CmgError {
  readonly code: string;
  readonly family = 'usage' as const;
  readonly file: string;
  readonly issues: ConfigIssue[];

  constructor(file: string, issues: ConfigIssue[], options: CmgErrorOptions & { code?: string } = {}) {
    super(ConfigError.summarize(file, issues), {
      hint: 'Correct the file and run the command again; `cmg config check FILE` checks a file without starting anything.',
      ...options,
    });
    this.code = options.code ?? 'CMG_CONFIG_INVALID';
    this.file = file;
    this.issues = issues;
  }

  private static summarize(file: string, issues: ConfigIssue[]): string {
    const head =
      issues.length === 1
        ? `invalid configuration in ${file}:`
        : `invalid configuration in ${file} (${issues.length} problems):`;
    return [head, ...issues.map((i) => `  ${formatIssue(i)}`)].join('\n');
  }

  override jsonFields(): Record<string, unknown> {
    return { file: this.file, issues: this.issues };
  }
}

function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? '' : `line ${issue.line}, column ${issue.column ?? 1}: `;
  const key = issue.path === '' ? '' : `${issue.path}: `;
  return `${where}${key}${issue.message}`;
}

/** An operation was attempted and did not succeed (I/O, network, a peer said no). */
export class OperationError extends CmgError {
  readonly code: string;
  readonly family = 'failure' as const;
  constructor(code: string, message: string, options: CmgErrorOptions = {}) {
    super(message, options);
    this.code = code;
  }
}

export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * The one mapping from errors to exit codes. oclif's own parse errors (unknown
 * flag, missing argument) carry `oclif.exit === 2` and count as usage errors.
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CmgError) return err.family === 'usage' ? ExitCode.usage : ExitCode.failed;
  const oclifExit = (err as { oclif?: { exit?: unknown } } | null)?.oclif?.exit;
  if (oclifExit === 2) return ExitCode.usage;
  return ExitCode.failed;
}
