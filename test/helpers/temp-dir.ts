import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Test } from 'uvu';

/** A fresh temp folder for each test of a suite, and a way to write files into it. */
export interface TempDir {
  /** The current test's folder (absolute); it exists only while a test runs. */
  readonly dir: string;
  /** The absolute path of `parts` joined under the folder. */
  path(...parts: string[]): string;
  /** Writes `data` to `name` under the folder (creating its folders) and returns the absolute path. */
  write(name: string, data: string | Uint8Array): string;
}

/**
 * Registers `before.each` and `after.each` hooks on `suite` that make a temp folder (named `prefix`
 * plus random characters) before each test and remove it after. Fixtures with more ways to write
 * (config files, PEM files) extend the object this returns.
 */
export function useTempDir(suite: Test, prefix: string): TempDir {
  let current = '';
  suite.before.each(() => {
    current = mkdtempSync(join(tmpdir(), prefix));
  });
  suite.after.each(() => {
    rmSync(current, { recursive: true, force: true });
    current = '';
  });
  const tmp: TempDir = {
    get dir(): string {
      if (current === '') throw new Error('test bug: the temp dir exists only while a test runs');
      return current;
    },
    path: (...parts) => join(tmp.dir, ...parts),
    write(name, data) {
      const file = tmp.path(name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, data);
      return file;
    },
  };
  return tmp;
}
