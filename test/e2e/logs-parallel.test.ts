/**
 * `cmg logs --json` on worker threads (src/logs/ndjson-parallel.ts): the
 * merged NDJSON of several logs rendered by workers must be byte for byte
 * what the same merge writes on one thread; small sets stay on this thread; a
 * log that vanishes fails the iteration (and the workers end); stopping early
 * ends the workers; and the CLI takes this path on a large --dir.
 *
 * The worker is found beside the built module (`new URL('./ndjson-worker.js',
 * import.meta.url)`), so everything here runs the built code in dist/ (run
 * `npm run build` first); src/ only lends its types.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SeverityName } from '../../src/logs/cmtrace-format.js';
import type { LogFilter } from '../../src/logs/filter.js';
import type * as NdjsonModule from '../../src/logs/ndjson.js';
import type * as ParallelModule from '../../src/logs/ndjson-parallel.js';
import type * as ReadModule from '../../src/logs/read.js';
import { REPO, RUN_JS } from '../helpers/cli.js';

// ---- the built modules -----------------------------------------------------------

const DIST = new URL('../../dist/logs/', import.meta.url).href;

interface Dist {
  parallelNdjson: typeof ParallelModule.parallelNdjson;
  mergedNdjson: typeof NdjsonModule.mergedNdjson;
  ndjsonFilter: typeof NdjsonModule.ndjsonFilter;
  logFilesIn: typeof ReadModule.logFilesIn;
  groupRotated: typeof ReadModule.groupRotated;
}
let loaded: Promise<Dist> | undefined;
/** The modules from dist/ (a string specifier: TypeScript does not look for declarations dist/ has none of). */
function dist(): Promise<Dist> {
  loaded ??= (async () => {
    const [p, n, r] = await Promise.all([
      import(`${DIST}ndjson-parallel.js`) as Promise<typeof ParallelModule>,
      import(`${DIST}ndjson.js`) as Promise<typeof NdjsonModule>,
      import(`${DIST}read.js`) as Promise<typeof ReadModule>,
    ]);
    return {
      parallelNdjson: p.parallelNdjson,
      mergedNdjson: n.mergedNdjson,
      ndjsonFilter: n.ndjsonFilter,
      logFilesIn: r.logFilesIn,
      groupRotated: r.groupRotated,
    };
  })();
  return loaded;
}

// ---- generated logs --------------------------------------------------------------

const T0 = Date.UTC(2026, 10, 29, 0, 0, 0);
const COMPONENTS = ['CMGService', 'CMGHttpHandler', 'SMS_CLOUD_PROXYCONNECTOR'];
const TYPE_CODE: Record<SeverityName, number> = { info: 1, warning: 2, error: 3 };

/** What each entry written is, to count what a filter keeps (`ms` undefined: plain text, no time). */
interface Meta {
  ms: number | undefined;
  type: SeverityName;
}

const pad3 = (n: number) => String(n).padStart(3, '0');
const biasText = (bias: number) => `${bias < 0 ? '-' : '+'}${pad3(Math.abs(bias))}`;

/** Local wall-clock time and date as a log written with `bias` shows `ms` (UTC = local + bias). */
function wallClock(ms: number, bias: number): { time: string; date: string } {
  const iso = new Date(ms - bias * 60_000).toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
  return {
    time: `${iso.slice(11, 23)}${biasText(bias)}`,
    date: `${iso.slice(5, 7)}-${iso.slice(8, 10)}-${iso.slice(0, 4)}`,
  };
}

/**
 * Log `k`'s entries [from, to): one every `step` ms from T0 (steps 5, 6 and 7 interleave the logs and give
 * equal times across them at common multiples), in the log's bias (now and then another one). Mostly one-line
 * CCM entries, with JSON escapes in some texts; among them several-line entries, continuation lines, SMS
 * lines and non-ASCII text.
 */
function entries(k: number, from: number, to: number, bias: number, out: string[], meta: Meta[]): void {
  const step = 5 + k;
  for (let i = from; i < to; i++) {
    const ms = T0 + i * step;
    const b = i % 37 === 0 ? 330 : bias;
    const { time, date } = wallClock(ms, b);
    const component = COMPONENTS[i % 3] as string;
    const type: SeverityName = i % 13 === 0 ? 'error' : i % 5 === 0 ? 'warning' : 'info';
    const thread = i % 4 === 0 ? 7 : 4242;
    if (i % 227 === 5) {
      // The SMS format: no severity (info), `~~` a line break, padding before `$$<`.
      out.push(
        `sms ${i} from log ${k}~~second part   $$<${component}><${date} ${time}><thread=${thread} (0x${thread.toString(16).toUpperCase()})>\n`,
      );
      meta.push({ ms, type: 'info' });
      continue;
    }
    let text: string;
    let after = '';
    if (i % 211 === 3) text = `several lines ${i}\nsecond line of log ${k}\r\nthird "quoted" line`;
    else if (i % 229 === 6) text = `José → 中文 😀 ünïcödé ${i} ß€`;
    else if (i % 17 === 0) text = `request ${i}: "quoted" back\\slash\ttab and \u0001 control`;
    else text = `request ${i} of log ${k} handled in ${i % 1000} ms: GET /ccm_system/request?id=${i}&k=${k}`;
    if (i % 223 === 4) after = `   at Cmg.Service.Run() in step ${i}\n   at Cmg.Main()\n`;
    out.push(
      `<![LOG[${text}]LOG]!><time="${time}" date="${date}" component="${component}" context="" type="${TYPE_CODE[type]}" thread="${thread}" file="svc.ts:${i % 300}">\n${after}`,
    );
    meta.push({ ms, type });
  }
}

interface LogSet {
  dir: string;
  meta: Meta[];
  /** The span of time written: entries at T0 .. T0 + span. */
  span: number;
}

/**
 * Three logs A, B and C in `dir`, each as X.lo_ (its older part) and X.log, about `mb` megabytes in all.
 * A.lo_ starts with plain text (an entry without a time), and so does B.log (a new file: nothing to join).
 */
function writeSet(dir: string, mb: number): LogSet {
  // About 190 bytes an entry; log k has one every 5 + k ms.
  const span = Math.ceil((mb * 1_000_000) / 190 / (1 / 5 + 1 / 6 + 1 / 7) / 210) * 210;
  const meta: Meta[] = [];
  const logs = [
    { name: 'A', bias: -60, split: 0.4, lead: ['preamble without a time, before any entry\n', ''] },
    { name: 'B', bias: 480, split: 0.6, lead: ['', 'B.log starts with plain text\n'] },
    { name: 'C', bias: 0, split: 0.5, lead: ['', ''] },
  ];
  logs.forEach((log, k) => {
    const count = Math.floor(span / (5 + k)) + 1;
    const split = Math.floor(count * log.split);
    [
      ['lo_', 0, split],
      ['log', split, count],
    ].forEach(([ext, from, to], part) => {
      const lead = log.lead[part] as string;
      const out: string[] = [lead];
      if (lead !== '') meta.push({ ms: undefined, type: 'info' });
      entries(k, from as number, to as number, log.bias, out, meta);
      writeFileSync(join(dir, `${log.name}.${ext}`), out.join(''));
    });
  });
  return { dir, meta, span };
}

// ---- the two paths ---------------------------------------------------------------

interface Merged {
  bytes: Buffer;
  lines: number;
  batches: Set<unknown>;
}

/** Runs joined: the bytes of every run, as the command writes them. */
async function collect(
  merged: AsyncGenerator<ReadModule.Run<NdjsonModule.RenderedLines>[]>,
): Promise<Merged> {
  const parts: Buffer[] = [];
  let lines = 0;
  const batches = new Set<unknown>();
  for await (const runs of merged) {
    for (const r of runs) {
      assert.ok(r.to > r.from, 'an empty run');
      parts.push(Buffer.from(r.batch.bytes.subarray(r.batch.start(r.from), r.batch.ends[r.to - 1])));
      lines += r.to - r.from;
      batches.add(r.batch);
    }
  }
  return { bytes: Buffer.concat(parts), lines, batches };
}

/** The set as the command finds it: --dir's files, each log's parts grouped, where each file ends now. */
async function setOf(dir: string): Promise<{ groups: string[][]; ends: Map<string, number> }> {
  const { logFilesIn, groupRotated } = await dist();
  const files = logFilesIn(dir);
  return { groups: groupRotated(files), ends: new Map(files.map((p) => [p, statSync(p).size])) };
}

async function oneThread(dir: string, filter: LogFilter): Promise<Merged> {
  const { mergedNdjson, ndjsonFilter } = await dist();
  const { groups, ends } = await setOf(dir);
  return collect(mergedNdjson(groups, ends, ndjsonFilter(filter)));
}

async function workers(dir: string, filter: LogFilter, threads: number): Promise<Merged> {
  const { parallelNdjson } = await dist();
  const { groups, ends } = await setOf(dir);
  const merged = parallelNdjson(groups, ends, filter, { minBytes: 0, threads });
  assert.ok(merged, `threads ${threads}: the set went to this thread`);
  return within(20_000, `threads ${threads}: the merge`, collect(merged));
}

/** `p`, or a failure when it has not settled by the deadline (a merge waiting for credit that never comes). */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where two outputs first differ, shown as the lines around it. */
function assertSameBytes(got: Buffer, want: Buffer, what: string): void {
  if (got.equals(want)) return;
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  const from = Math.max(0, want.lastIndexOf(10, i - 1) + 1);
  const around = (b: Buffer) => b.subarray(from, Math.min(b.length, i + 300)).toString('utf8');
  assert.fixture(
    around(got),
    around(want),
    `${what}: ${got.length} bytes, ${want.length} expected; first difference at byte ${i}`,
  );
  assert.unreachable(`${what}: the bytes differ at ${i}`);
}

const withDir = async <T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

// ---- child processes -------------------------------------------------------------

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

/** A node process, its output kept as bytes; killed (and the test failed) when it has not exited by the deadline. */
function run(args: string[], env: NodeJS.ProcessEnv, deadlineMs: number): Promise<Exit> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO,
      env: { ...process.env, FORCE_COLOR: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `node ${args.slice(0, 2).join(' ')}... had not exited after ${deadlineMs} ms (worker threads left running?); ` +
            `so far: ${Buffer.concat(out).toString().slice(0, 500)} ${Buffer.concat(err).toString().slice(0, 500)}`,
        ),
      );
    }, deadlineMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString(),
        ms: performance.now() - started,
      });
    });
  });
}

/**
 * A module script in a child node that must end on its own: it never calls process.exit, so a worker
 * thread left running would keep it alive past the deadline. It prints one JSON line: its result.
 */
async function script<T>(body: string, env: NodeJS.ProcessEnv, deadlineMs = 15_000): Promise<T> {
  // A file, not --input-type=module -e: a worker inherits the parent's execArgv, and --input-type fails it.
  const dir = mkdtempSync(join(tmpdir(), 'cmg-e2e-parallel-script-'));
  try {
    const file = join(dir, 'case.mjs');
    writeFileSync(
      file,
      `import { statSync, rmSync } from 'node:fs';
const { parallelNdjson } = await import(${JSON.stringify(`${DIST}ndjson-parallel.js`)});
const { logFilesIn, groupRotated } = await import(${JSON.stringify(`${DIST}read.js`)});
const files = logFilesIn(process.env.SET_DIR);
const ends = new Map(files.map((p) => [p, statSync(p).size]));
const groups = groupRotated(files);
${body}`,
    );
    const r = await run([file], env, deadlineMs);
    assert.is(r.stderr, '', 'the child wrote to stderr');
    assert.is(r.code, 0, `the child exited with ${r.code} (${r.signal}): ${r.stdout}`);
    const lines = r.stdout.toString().trim().split('\n');
    assert.is(lines.length, 1, r.stdout.toString());
    return JSON.parse(lines[0] as string) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 1. the same bytes as one thread ---------------------------------------------

test('2 and 3 threads (1 and 2 workers beside this one) write the bytes one thread writes: no filter, and type + since + until', async () => {
  await withDir('cmg-e2e-parallel-', async (dir) => {
    const set = writeSet(dir, 15);
    // And a log just rotated: empty (its worker has nothing to send but the end).
    writeFileSync(join(dir, 'D.log'), '');
    const sizes = ['A', 'B', 'C'].map(
      (n) => statSync(join(dir, `${n}.lo_`)).size + statSync(join(dir, `${n}.log`)).size,
    );
    // Each log is read in 1 MB chunks, a batch each: well beyond the 4 a log may have in flight, so the
    // workers wait for credit and the main thread gives it back many times over.
    for (const s of sizes) assert.ok(s > 4 << 20, `a log of ${s} bytes is too small to need credit`);

    const all = await oneThread(dir, {});
    assert.is(all.lines, set.meta.length, 'every entry once, on one thread');
    assert.ok(all.batches.size > 12, `${all.batches.size} batches`);
    // Equal times across logs, entries without a time, SMS and several-line entries all made it into the set.
    const text = all.bytes.toString('utf8');
    for (const needle of [
      '"time":null',
      '"text":"sms 5 from log 0\\nsecond part"',
      // (the parser reads lines: a CR before a line break goes with it)
      '"text":"several lines 3\\nsecond line of log 0\\nthird \\"quoted\\" line"',
      'José → 中文 😀 ünïcödé 6 ß€',
      '\\n   at Cmg.Service.Run() in step 4\\n   at Cmg.Main()"',
      '\\u0001 control',
    ]) {
      assert.ok(text.includes(needle), `no ${needle} in the output`);
    }
    assert.ok(text.includes('"time":"2026-11-29T00:00:00.210Z"'), 'a time all three logs share');

    const since = new Date(T0 + Math.round((set.span * 0.3) / 210) * 210);
    const until = new Date(T0 + Math.round((set.span * 0.7) / 210) * 210);
    const types = new Set<SeverityName>(['warning', 'error']);
    const filter: LogFilter = { types, since, until };
    const some = await oneThread(dir, filter);
    const kept = set.meta.filter(
      (m) => m.ms !== undefined && types.has(m.type) && m.ms >= since.getTime() && m.ms <= until.getTime(),
    ).length;
    assert.is(some.lines, kept, 'the filtered count on one thread');
    assert.ok(kept > 1000 && kept < set.meta.length / 4, `${kept} entries kept`);
    // The bounds are inclusive, and an entry sits exactly on each.
    assert.ok(some.bytes.includes(`"time":"${since.toISOString()}"`), 'the entry at --since');
    assert.ok(some.bytes.includes(`"time":"${until.toISOString()}"`), 'the entry at --until');

    for (const threads of [2, 3]) {
      const got = await workers(dir, {}, threads);
      assert.is(got.lines, set.meta.length, `threads ${threads}: every entry once`);
      assertSameBytes(got.bytes, all.bytes, `threads ${threads}, no filter`);
      const gotSome = await workers(dir, filter, threads);
      assert.is(gotSome.lines, kept, `threads ${threads}: the filtered count`);
      assertSameBytes(gotSome.bytes, some.bytes, `threads ${threads}, type + since + until`);
    }
  });
});

// ---- 2. small sets stay on this thread ------------------------------------------

test('one log, threads: 1, or fewer bytes than minBytes: undefined (read on this thread)', async () => {
  const { parallelNdjson } = await dist();
  await withDir('cmg-e2e-parallel-', async (dir) => {
    writeSet(dir, 0.3);
    const { groups, ends } = await setOf(dir);
    assert.is(groups.length, 3);
    const total = [...ends.values()].reduce((a, b) => a + b, 0);

    // One log (its .lo_ and .log are one log): nothing to spread, however many threads.
    const a = groups.filter((g) => g.some((p) => p.endsWith('A.log')));
    assert.is((a[0] as string[]).length, 2);
    assert.is(parallelNdjson(a, ends, {}, { minBytes: 0, threads: 4 }), undefined, 'one log');
    assert.is(parallelNdjson(a, ends, {}, { minBytes: 0 }), undefined, 'one log, default threads');
    // One thread.
    assert.is(parallelNdjson(groups, ends, {}, { minBytes: 0, threads: 1 }), undefined, 'threads: 1');
    // Below minBytes, given or the default 16 MB.
    assert.is(
      parallelNdjson(groups, ends, {}, { minBytes: total + 1, threads: 2 }),
      undefined,
      'below minBytes',
    );
    assert.is(parallelNdjson(groups, ends, {}, { threads: 2 }), undefined, 'below the default 16 MB');
    assert.is(parallelNdjson(groups, ends, {}), undefined, 'the defaults');
    // At minBytes it is the workers' (not iterated: no worker starts until the first next()).
    const at = parallelNdjson(groups, ends, {}, { minBytes: total, threads: 2 });
    assert.ok(at, 'at minBytes: on workers');
    await at.return(undefined);
  });
});

// ---- 3. a log that vanishes ------------------------------------------------------

interface Failure {
  error: boolean;
  code?: string;
  message?: string;
  ms: number;
  lines: number;
}

const ITERATE_UNTIL_IT_FAILS = `
  rmSync(process.env.VANISH);
  const started = performance.now();
  let lines = 0;
  try {
    const merged = parallelNdjson(groups, ends, {}, { minBytes: 0, threads: 2 });
    if (!merged) throw new Error('the set went to this thread');
    for await (const runs of merged) for (const r of runs) lines += r.to - r.from;
    console.log(JSON.stringify({ error: false, ms: performance.now() - started, lines }));
  } catch (err) {
    console.log(JSON.stringify({
      error: err instanceof Error, code: err.code, message: err.message, ms: performance.now() - started, lines,
    }));
  }
`;

test('a file gone after its end was taken: the iteration rejects with ENOENT, and the process can exit', async () => {
  await withDir('cmg-e2e-parallel-', async (dir) => {
    writeSet(dir, 6);
    // A log gone whole (before any of it was read), then a .log gone after its .lo_ (midway through the merge).
    // With two threads the files are shared out by size: C.lo_ and A.log are the worker's, B.log this thread's.
    for (const [vanish, midway] of [
      [join(dir, 'C.lo_'), false],
      [join(dir, 'B.log'), true],
      [join(dir, 'A.log'), true],
    ] as const) {
      const r = await script<Failure>(ITERATE_UNTIL_IT_FAILS, { SET_DIR: dir, VANISH: vanish });
      assert.ok(r.error, `${vanish}: no Error (${JSON.stringify(r)})`);
      assert.is(r.code, 'ENOENT', `${vanish}: ${r.message}`);
      assert.match(r.message ?? '', vanish);
      assert.ok(r.ms < 5000, `${vanish}: rejected after ${Math.round(r.ms)} ms`);
      if (midway) assert.ok(r.lines > 0, 'B.lo_ was merged before B.log was found gone');
      else assert.is(r.lines, 0, 'nothing was merged');
      writeSet(dir, 6); // back as it was
    }
  });
});

// ---- 4. stopping early -----------------------------------------------------------

test('break after the first runs: the workers end (the process exits on its own)', async () => {
  await withDir('cmg-e2e-parallel-', async (dir) => {
    const set = writeSet(dir, 6);
    const r = await script<{ first: number; done: boolean; ms: number }>(
      `
      const merged = parallelNdjson(groups, ends, {}, { minBytes: 0, threads: 2 });
      if (!merged) throw new Error('the set went to this thread');
      let first = 0;
      for await (const runs of merged) {
        for (const r of runs) first += r.to - r.from;
        break;
      }
      const started = performance.now();
      // After the break the generator is done: its finally ran (the workers were terminated).
      const after = await merged.next();
      console.log(JSON.stringify({ first, done: after.done, ms: performance.now() - started }));
      `,
      { SET_DIR: dir },
    );
    assert.ok(r.first > 0 && r.first < set.meta.length / 4, `${r.first} lines before the break`);
    assert.ok(r.done, 'the generator is done after the break');
  });
});

// ---- 5. the CLI ------------------------------------------------------------------

/** Counts the worker threads the CLI starts (a preload that wraps Worker), reported on stderr at exit. */
const COUNT_WORKERS = `data:text/javascript,${encodeURIComponent(`
  import wt from 'node:worker_threads';
  import { syncBuiltinESMExports } from 'node:module';
  if (wt.isMainThread) {
    let started = 0;
    const W = wt.Worker;
    wt.Worker = class extends W { constructor(...a) { super(...a); started++; } };
    syncBuiltinESMExports();
    process.on('exit', () => process.stderr.write('workers started: ' + started + '\\n'));
  }
`)}`;

test('cmg logs --dir D --json on more than 16 MB: the bytes of the merge on one thread, exit 0', async () => {
  await withDir('cmg-e2e-parallel-cli-', async (dir) => {
    const set = writeSet(dir, 17);
    const { ends } = await setOf(dir);
    const total = [...ends.values()].reduce((a, b) => a + b, 0);
    assert.ok(total > 16 << 20, `${total} bytes: not above the 16 MB the command reads on one thread`);
    const want = await oneThread(dir, {});
    assert.is(want.lines, set.meta.length);

    const r = await run([RUN_JS, 'logs', '--dir', dir, '--json'], { NO_COLOR: '1' }, 30_000);
    assert.is(r.stderr, '');
    assert.is(r.code, 0);
    assertSameBytes(r.stdout, want.bytes, 'cmg logs --dir --json');

    // And it took the workers' path: on 2+ CPUs, one thread per log up to the CPUs (at most 4), this one included.
    const counted = await run(
      ['--import', COUNT_WORKERS, RUN_JS, 'logs', '--dir', dir, '--json'],
      { NO_COLOR: '1' },
      30_000,
    );
    assert.is(counted.code, 0, counted.stderr);
    const threads = Math.min(availableParallelism(), 4, 3);
    assert.is(counted.stderr, `workers started: ${threads < 2 ? 0 : threads - 1}\n`);
    assertSameBytes(counted.stdout, want.bytes, 'cmg logs --dir --json (workers counted)');
  });
});

// ---- 6. a reader that leaves early --------------------------------------------------

/** The CLI with its stdout closed after the first bytes (as `| head -c 1` does): whether it exits by the deadline. */
function readerLeaves(
  args: string[],
  deadlineMs: number,
): Promise<{ exited: boolean; code: number | null; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN_JS, ...args], {
      cwd: REPO,
      env: { ...process.env, FORCE_COLOR: undefined, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ exited: false, code: null, ms: performance.now() - started });
    }, deadlineMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ exited: true, code, ms: performance.now() - started });
    });
  });
}

test('cmg logs --dir D --json | head -c 1 on more than 16 MB: the command ends (it does on one thread)', async () => {
  await withDir('cmg-e2e-parallel-cli-', async (dir) => {
    writeSet(dir, 17);
    // On one thread (one log, its .lo_ and .log), the command ends once nobody reads: the control.
    const alone = await readerLeaves(['logs', join(dir, 'A.lo_'), join(dir, 'A.log'), '--json'], 8000);
    assert.ok(alone.exited, 'one log on one thread: the command did not end after its reader left');
    // On workers: the workers wait for credit the main thread (waiting for stdout to drain) never gives, and
    // nothing ends them, so the process would live on.
    const parallel = await readerLeaves(['logs', '--dir', dir, '--json'], 8000);
    assert.ok(
      parallel.exited,
      `the command had not ended ${Math.round(parallel.ms)} ms after its reader left ` +
        `(on one thread it ended with code ${alone.code} after ${Math.round(alone.ms)} ms)`,
    );
  });
});

test.run();
