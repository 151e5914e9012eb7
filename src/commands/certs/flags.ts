import { Flags } from '@oclif/core';
import { KEY_TYPES, type KeyType } from '../../certs/names.js';
import { passphraseSource } from '../../certs/passphrase.js';
import type { PassphraseSource } from '../../certs/read.js';
import { UsageError } from '../../errors.js';

/** Flags shared by the certs commands. Passphrases never come from an argument: only env, file or prompt. */
export const certFlags = {
  force: Flags.boolean({ description: 'replace output files that exist', default: false }),
  keyType: Flags.string({
    description: 'key algorithm and size',
    options: [...KEY_TYPES],
    default: 'rsa2048',
  }),
  days: (defaultDays?: number) =>
    Flags.integer({
      description: 'validity in days',
      min: 1,
      max: 36500,
      ...(defaultDays === undefined ? {} : { default: defaultDays }),
    }),
  issuerKey: Flags.string({ description: "the issuer's private key (default: beside --issuer, .key)" }),
  crlUrl: Flags.string({ description: 'CRL distribution point URLs, comma-separated' }),
  passphraseEnv: Flags.string({
    description: 'environment variable holding the PFX passphrase',
    exclusive: ['passphrase-file'],
  }),
  passphraseFile: Flags.string({
    description: 'file holding the PFX passphrase (first line)',
    exclusive: ['passphrase-env'],
  }),
};

export function passphraseFrom(
  flags: { 'passphrase-env'?: string | undefined; 'passphrase-file'?: string | undefined },
  confirm = false,
): PassphraseSource {
  return passphraseSource({ env: flags['passphrase-env'], file: flags['passphrase-file'], confirm });
}

export const asKeyType = (v: string) => v as KeyType;

/** "a,b , c" -> ['a','b','c'] for flags that take lists. */
export function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function renderWritten(log: (line: string) => void, files: { path: string; mode: string }[]): void {
  for (const f of files) log(`  wrote ${f.path} (mode ${f.mode})`);
}

/** --at: an ISO 8601 time, or a usage error naming the flag. */
export function parseAt(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (Number.isNaN(at.getTime()))
    throw new UsageError(`--at: expected a time such as 2027-01-31T12:00:00Z, got "${value}"`);
  return at;
}
