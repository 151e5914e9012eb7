import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CertUsageError } from './errors.js';
import type { PassphraseSource } from './read.js';

/**
 * Where a passphrase may come from: an environment variable, a file, or a
 * prompt on the terminal. Never a command-line argument, which other users see
 * in the process list and which shells keep in their history.
 */
export interface PassphraseOptions {
  env?: string | undefined;
  file?: string | undefined;
  /** Ask twice when a new secret is being set. */
  confirm?: boolean;
}

function fromEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined) {
    throw new CertUsageError(
      'CMG_PASSPHRASE_ENV_UNSET',
      `environment variable ${name} (from --passphrase-env) is not set`,
    );
  }
  return value;
}

function fromFile(path: string): string {
  try {
    // One trailing newline is what editors and `echo` add; it is not part of the passphrase.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new CertUsageError('CMG_PASSPHRASE_FILE_UNREADABLE', `cannot read the passphrase file ${path}`, {
      cause: err,
    });
  }
}

function ask(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

export function passphraseSource(options: PassphraseOptions): PassphraseSource {
  return async (source: string) => {
    if (options.env) return fromEnv(options.env);
    if (options.file) return fromFile(options.file);
    if (!process.stdin.isTTY || !process.stderr.isTTY) {
      throw new CertUsageError('CMG_PASSPHRASE_NEEDED', `a passphrase is needed for ${source}`, {
        hint: 'Give it with --passphrase-env VAR or --passphrase-file FILE, or run in a terminal to be asked.',
      });
    }
    const first = await ask(`Passphrase for ${source}: `);
    if (options.confirm) {
      const second = await ask('Again, to confirm: ');
      if (second !== first) throw new CertUsageError('CMG_PASSPHRASE_MISMATCH', 'the two passphrases differ');
    }
    return first;
  };
}
