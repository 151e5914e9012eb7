/**
 * Helpers shared by the config loader tests (test/config/*.test.ts): a temp folder per test to write
 * config files into, wrappers that catch or refuse a ConfigError, and ways to find and check the
 * line and column an issue is reported at.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { type DaemonConfig, type DaemonKind, loadDaemonConfig } from '../../src/config/kind.js';
import { ConfigError, type ConfigIssue } from '../../src/errors.js';
import { type TempDir as BaseTempDir, useTempDir as useBaseTempDir } from './temp-dir.js';

/** The project root, where esbuild resolves the loader's dependencies. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A config object as a test builds it before writing it out. */
export type Json = Record<string, unknown>;

/** A 1-based line and column in a config file's text. */
export interface Position {
  line: number;
  column: number;
}

/** A config loader such as loadGatewayConfig: reads `file`, takes environment variables from `env`. */
export type LoadFn = (file: string, env: NodeJS.ProcessEnv) => unknown;

/** The kind of config a test file is about (gateway or connection point), and how to load it. */
export interface ConfigKind {
  /** Absolute path of the source module (.ts) that exports the loader; a child process imports it. */
  module: string;
  /** The loader's export name in that module, such as `loadGatewayConfig`. */
  name: string;
  /** The loader, called in this process. */
  load: LoadFn;
  /** The file name tests write a JSON config to, such as `gateway.json`. */
  jsonName: string;
  /** Returns the smallest valid config of this kind, creating the files it references. */
  minimal: () => Json;
}

// ---------------------------------------------------------------- the temp folder

/** A fresh temp folder for each test of a suite, and ways to create files in it. */
/** The per-test temp folder, with the writers the config tests use. */
export interface TempDir extends BaseTempDir {
  /** Creates empty files (and their folders) under the folder; the loaders check existence only. */
  touch(...names: string[]): void;
  /** Writes `config` as indented JSON to `name` and returns the file path and the text written. */
  writeJson(name: string, config: unknown): { file: string; text: string };
}

/** Makes a temp folder before each test of `suite`, removes it after (see temp-dir.ts). */
export function useTempDir(suite: Test, prefix = 'cmg-cfg-'): TempDir {
  const tmp = useBaseTempDir(suite, prefix) as TempDir;
  tmp.touch = (...names) => {
    for (const name of names) tmp.write(name, '');
  };
  tmp.writeJson = (name, config) => {
    const text = `${JSON.stringify(config, null, 2)}\n`;
    return { file: tmp.write(name, text), text };
  };
  return tmp;
}

// ---------------------------------------------------------------- loading

/**
 * Runs `fn` and returns the ConfigError it throws; fails the test when it throws nothing or something
 * else.
 */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

/**
 * Loads a file the test expects to be valid. An unexpected ConfigError is turned into a plain Error
 * whose message starts with the error code, so the failure says at once what kind of refusal it was.
 * (CmgError's extra-fields method used to be called details(), which uvu's reporter read as a diff
 * string and crashed on; it is jsonFields() now, so a ConfigError reaching uvu is reported normally.)
 */
export function valid<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`unexpected ${err.code}: ${err.message}`);
    throw err;
  }
}

/** loadDaemonConfig for a file the test expects to be valid (see `valid`). */
export function loadDaemon(file: string, kind: DaemonKind | undefined, env: NodeJS.ProcessEnv): DaemonConfig {
  return valid(() => loadDaemonConfig(file, kind, env));
}

/**
 * Loads `file` with `load` and `env`, checks that it is refused as CMG_CONFIG_INVALID with exactly
 * `count` issues, and returns the error.
 */
export function invalidFile(
  load: LoadFn,
  file: string,
  count: number,
  env: NodeJS.ProcessEnv = {},
): ConfigError {
  const err = configError(() => load(file, env));
  assert.is(err.code, 'CMG_CONFIG_INVALID');
  assert.is(err.issues.length, count, `issues: ${JSON.stringify(err.issues, null, 2)}`);
  return err;
}

/**
 * Writes `config` as JSON to the kind's JSON file under `tmp` and checks, as `invalidFile` does, that it
 * is refused with exactly `count` issues; returns the error, the file and the text written.
 */
export function invalidJson(
  tmp: TempDir,
  kind: ConfigKind,
  config: Json,
  count: number,
  env: NodeJS.ProcessEnv = {},
): { err: ConfigError; file: string; text: string } {
  const { file, text } = tmp.writeJson(kind.jsonName, config);
  return { err: invalidFile(kind.load, file, count, env), file, text };
}

/**
 * Loads `file` with `load`, checks that it is refused as CMG_CONFIG_SYNTAX for that file with at least
 * one issue, and returns the error.
 */
export function syntaxErrorIn(load: LoadFn, file: string): ConfigError {
  const err = configError(() => load(file, {}));
  assert.is(err.code, 'CMG_CONFIG_SYNTAX', `code for ${file}`);
  assert.is(err.file, file);
  assert.ok(err.issues.length >= 1);
  return err;
}

/** `config` without its `source` (the config file path), to compare configs loaded from different files. */
export function withoutSource<T extends { source: string }>(config: T): Omit<T, 'source'> {
  const { source: _source, ...rest } = config;
  return rest;
}

// ---------------------------------------------------------------- issues and positions

/** The issue of `err` at key path `path`; fails the test, listing every issue, when there is none. */
export function issueAt(err: ConfigError, path: string): ConfigIssue {
  const found = err.issues.find((i) => i.path === path);
  if (!found) throw new Error(`no issue at "${path}"; issues: ${JSON.stringify(err.issues, null, 2)}`);
  return found;
}

/** 1-based line and column of a 0-based offset into `text`. */
export function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

/** 1-based line and column of the `nth` occurrence of `needle` in `text`. */
export function where(text: string, needle: string, nth = 1): Position {
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`test bug: ${JSON.stringify(needle)} (#${nth}) is not in the text`);
  }
  return positionAt(text, at);
}

/** Asserts that `issue` is reported at line and column `pos`. */
export function assertAt(issue: ConfigIssue, pos: Position): void {
  assert.equal({ line: issue.line, column: issue.column }, pos, `position of ${issue.path || '(file)'}`);
}

// ---------------------------------------------------------------- unreadable files

/** What loading a file gave, in a form that can cross a process boundary as JSON. */
export interface LoadOutcome {
  /** The error's name (`ConfigError`), when the load threw. */
  name?: string;
  code?: string;
  issues?: ConfigIssue[];
  /** True when the load succeeded. */
  ok?: boolean;
}

/** The uid `loadUnreadable` loads as: 65534 (nobody) when the tests run as root, else the current uid. */
export function readerUid(): number | undefined {
  return process.getuid?.() === 0 ? 65534 : process.getuid?.();
}

/**
 * Loads `file` in a child process running as nobody (uid/gid 65534): root reads any file whatever its
 * mode bits, so an unreadable file can only be tested as another user. nobody may not be able to read
 * the checkout (a clone in a 0700 folder), so the loader is first bundled with esbuild into a
 * world-readable temp folder of its own and the child runs only that file.
 */
function loadAsNobody(kind: ConfigKind, file: string): LoadOutcome {
  const bundleDir = mkdtempSync(join(tmpdir(), 'cmg-nobody-'));
  try {
    chmodSync(bundleDir, 0o755);
    const entry = join(bundleDir, 'entry.ts');
    writeFileSync(
      entry,
      `import { ${kind.name} as load } from ${JSON.stringify(kind.module)};
try { load(${JSON.stringify(file)}, {}); console.log(JSON.stringify({ ok: true })); }
catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, issues: e.issues })); }
`,
    );
    const bundle = join(bundleDir, 'loader.cjs');
    buildSync({
      entryPoints: [entry],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      // CommonJS, as for the single binary: bundled CommonJS packages require() Node's built-ins.
      format: 'cjs',
      keepNames: true, // error classes report their own names
      // jsonc-parser's UMD build require()s its own files at run time; its ES module build bundles.
      mainFields: ['module', 'main'],
      absWorkingDir: PROJECT_ROOT,
      nodePaths: [join(PROJECT_ROOT, 'node_modules')],
      logLevel: 'error',
    });
    chmodSync(bundle, 0o644);
    const run = spawnSync(process.execPath, [bundle], {
      uid: 65534,
      gid: 65534,
      cwd: bundleDir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (run.error) throw new Error(`cannot run the loader as uid 65534: ${run.error.message}`);
    assert.is(run.status, 0, `loader child failed: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as LoadOutcome;
  } finally {
    rmSync(bundleDir, { recursive: true, force: true });
  }
}

/**
 * Makes `unreadable` (the config file itself or a file it references) mode 000 and loads `configFile`
 * with the kind's loader as a user that cannot read it. When the tests run as root that user is nobody,
 * in a child process (the temp folder, and the config file unless it is the unreadable one, are opened
 * up so that nobody reaches them); otherwise it is the current user, in this process, and the load
 * must throw a ConfigError.
 */
export function loadUnreadable(
  tmp: TempDir,
  kind: ConfigKind,
  configFile: string,
  unreadable: string,
): LoadOutcome {
  chmodSync(unreadable, 0o000);
  if (process.getuid?.() === 0) {
    chmodSync(tmp.dir, 0o755);
    if (configFile !== unreadable) chmodSync(configFile, 0o644);
    return loadAsNobody(kind, configFile);
  }
  const err = configError(() => kind.load(configFile, {}));
  return { name: err.name, code: err.code, issues: err.issues };
}

// ---------------------------------------------------------------- one test per refused config

/** A change to the minimal config that must be refused with exactly one issue, and what the issue says. */
export interface OneIssueCase {
  /** The test's title. */
  title: string;
  /** Top-level keys that replace (or are added after) those of the minimal config. */
  set: Json;
  /** Runs before the config is written, to create files or folders it refers to. */
  setup?: () => void;
  /** Environment variables for the loader; none by default. */
  env?: NodeJS.ProcessEnv;
  /** The issue's key path. */
  path: string;
  /** Patterns the issue's message must match. */
  messages: RegExp[];
  /** Patterns the issue's message must not match. */
  notMessages?: RegExp[];
  /** A path under the temp dir (as given to `tmp.path`) that the message must contain. */
  mentions?: string;
  /** The issue's value; checked only when the property is there, so `value: undefined` checks it has none. */
  value?: unknown;
  /** The issue must be at the first occurrence of this in the JSON text written. */
  at?: string;
}

/**
 * Registers one test on `suite` per case: the kind's minimal config with the case's keys set is written
 * as JSON, must be refused with exactly one issue (as `invalidJson` checks), and that issue must be at
 * the case's path and have the message, value and position the case gives.
 */
export function testOneIssue(suite: Test, tmp: TempDir, kind: ConfigKind, cases: OneIssueCase[]): void {
  for (const c of cases) {
    suite(c.title, () => {
      c.setup?.();
      const { err, text } = invalidJson(tmp, kind, { ...kind.minimal(), ...c.set }, 1, c.env);
      const issue = issueAt(err, c.path);
      for (const pattern of c.messages) assert.match(issue.message, pattern);
      for (const pattern of c.notMessages ?? []) assert.not.match(issue.message, pattern);
      if (c.mentions !== undefined) assert.ok(issue.message.includes(tmp.path(c.mentions)), issue.message);
      if ('value' in c) assert.is(issue.value, c.value);
      if (c.at !== undefined) assertAt(issue, where(text, c.at));
    });
  }
}
