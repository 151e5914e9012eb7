/**
 * `cmg logs -f` underneath (src/logs/follow.ts): a log rotated many times
 * while it is followed gives every entry exactly once and in order; logs that
 * appear later are picked up.
 */
import { appendFileSync, readdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatCmtraceLine } from '../../src/logs/cmtrace-format.js';
import { LogFollower } from '../../src/logs/follow.js';
import { closeAllLogs, openLogger } from '../../src/logs/logger.js';
import type { ParsedEntry } from '../../src/logs/parse.js';
import { useTempDir } from '../helpers/temp-dir.js';

const tmp = useTempDir(test, 'cmg-logs-follow-');
let follower: LogFollower | undefined;
test.after.each(async () => {
  follower?.stop();
  follower = undefined;
  await closeAllLogs();
});

const line = (text: string, ms = 0) =>
  formatCmtraceLine(
    {
      time: new Date(Date.UTC(2026, 10, 29, 3, 0, 0) + ms),
      text,
      component: 'CMGService',
      type: 'info',
      thread: 7,
    },
    () => 0,
  );

/** Entries the follower hands out, as texts, in order. */
function follow(files: { path: string; offset: number }[], dir?: string) {
  const got: ParsedEntry[] = [];
  follower = new LogFollower({ files, dir, pollMs: 20, onEntries: (es) => got.push(...es) });
  return got;
}

async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.unreachable(`timed out after ${ms} ms: ${what()}`);
    await sleep(10);
  }
}

/** Where the sequence of `line N` texts first goes wrong, for a readable failure. */
function firstGap(texts: string[], n: number): string {
  for (let i = 0; i < Math.max(texts.length, n); i++) {
    if (texts[i] !== `line ${i + 1}`) {
      return `${texts.length} entries; at index ${i} expected "line ${i + 1}", got ${JSON.stringify(texts.slice(Math.max(0, i - 2), i + 3))}`;
    }
  }
  return `${texts.length} entries`;
}

test('a log rotated many times while followed: every line exactly once, in order', async () => {
  const N = 3000;
  const log = openLogger(tmp.dir, 'CMGService.log', 'CMGService', { maxBytes: 4096, thread: 4242 });
  let rotations = 0;
  log.sink.on('rotate', () => rotations++);
  const path = tmp.path('CMGService.log');
  const got = follow([{ path, offset: 0 }]);
  follower?.start();
  // A few lines at a time, as a busy service logs: a file holds ~30 lines, so it rotates every ~8 writes.
  for (let i = 1; i <= N; ) {
    const burst = 1 + (i % 4);
    for (let k = 0; k < burst && i <= N; k++, i++) log.info(`line ${i}`);
    await sleep(4);
  }
  await log.sink.flush();
  await waitFor(
    () => got.length >= N,
    10_000,
    () =>
      firstGap(
        got.map((e) => e.text),
        N,
      ),
  );
  await sleep(100); // anything repeated would come now
  const texts = got.map((e) => e.text);
  assert.ok(rotations >= 50, `the log rotated ${rotations} times`);
  assert.is(texts.length, N, firstGap(texts, N));
  assert.equal(
    texts,
    Array.from({ length: N }, (_, i) => `line ${i + 1}`),
    firstGap(texts, N),
  );
  assert.ok(got.every((e) => e.component === 'CMGService' && e.thread === '4242' && e.time instanceof Date));
  assert.equal(readdirSync(tmp.dir).sort(), ['CMGService.lo_', 'CMGService.log']);
});

test('rotation by hand between two polls: the rest of the renamed file, then the new one', () => {
  const path = tmp.path('CloudMgr.log');
  writeFileSync(path, line('line 1') + line('line 2'));
  const got = follow([{ path, offset: 0 }]);
  follower?.poll();
  assert.equal(
    got.map((e) => e.text),
    ['line 1', 'line 2'],
  );
  appendFileSync(path, line('line 3'));
  renameSync(path, tmp.path('CloudMgr.lo_'));
  writeFileSync(path, line('line 4'));
  follower?.poll();
  appendFileSync(path, line('line 5'));
  follower?.poll();
  follower?.poll();
  assert.equal(
    got.map((e) => e.text),
    ['line 1', 'line 2', 'line 3', 'line 4', 'line 5'],
  );
});

test('a renamed log whose successor is not there yet is still read to its end', () => {
  const path = tmp.path('CloudMgr.log');
  writeFileSync(path, line('line 1'));
  const got = follow([{ path, offset: 0 }]);
  follower?.poll();
  appendFileSync(path, line('line 2'));
  renameSync(path, tmp.path('CloudMgr.lo_'));
  follower?.poll();
  writeFileSync(path, line('line 3'));
  follower?.poll();
  assert.equal(
    got.map((e) => e.text),
    ['line 1', 'line 2', 'line 3'],
  );
});

test('two rotations between two polls: the middle generation is not lost', () => {
  const path = tmp.path('CloudMgr.log');
  const lo = tmp.path('CloudMgr.lo_');
  writeFileSync(path, line('line 1'));
  const got = follow([{ path, offset: 0 }]);
  follower?.poll();
  renameSync(path, lo);
  writeFileSync(path, line('line 2'));
  renameSync(path, lo);
  writeFileSync(path, line('line 3'));
  follower?.poll();
  assert.equal(
    got.map((e) => e.text),
    ['line 1', 'line 2', 'line 3'],
  );
});

test('starting at an offset: only what comes after it', () => {
  const path = tmp.path('A.log');
  const first = line('old');
  writeFileSync(path, first + line('line 1'));
  const got = follow([{ path, offset: Buffer.byteLength(first) }]);
  follower?.poll();
  assert.equal(
    got.map((e) => e.text),
    ['line 1'],
  );
});

test('an entry appears at the poll after it is written, not only when the next one comes', () => {
  const path = tmp.path('A.log');
  writeFileSync(path, '');
  const got = follow([{ path, offset: 0 }]);
  follower?.poll();
  assert.equal(got, []);
  appendFileSync(path, line('line 1'));
  follower?.poll();
  assert.equal(
    got.map((e) => e.text),
    ['line 1'],
  );
  // Half a line is held until its end comes.
  const l2 = line('line 2');
  appendFileSync(path, l2.slice(0, 30));
  follower?.poll();
  assert.is(got.length, 1);
  appendFileSync(path, l2.slice(30));
  follower?.poll();
  assert.equal(
    got.map((e) => e.text),
    ['line 1', 'line 2'],
  );
});

test('a log truncated in place is read again from its start', () => {
  const path = tmp.path('A.log');
  writeFileSync(path, line('line 1') + line('line 2'));
  const got = follow([{ path, offset: 0 }]);
  follower?.poll();
  truncateSync(path, 0);
  follower?.poll();
  appendFileSync(path, line('line 3'));
  follower?.poll();
  assert.equal(
    got.map((e) => e.text),
    ['line 1', 'line 2', 'line 3'],
  );
});

test('a log that appears later in the followed folder is picked up from its start', async () => {
  const existing = tmp.write('CMGService.log', line('old, not followed'));
  const got = follow([{ path: existing, offset: Buffer.byteLength(line('old, not followed')) }], tmp.dir);
  follower?.start();
  await sleep(60);
  tmp.write('CMGHttpHandler.log', line('line 1') + line('line 2'));
  tmp.write('CMGHttpHandler.lo_', line('history is not followed'));
  tmp.write('notes.txt', line('not a log'));
  await waitFor(
    () => got.length >= 2,
    3000,
    () => JSON.stringify(got.map((e) => e.text)),
  );
  appendFileSync(existing, line('line 3'));
  appendFileSync(tmp.path('CMGHttpHandler.log'), line('line 4'));
  await waitFor(
    () => got.length >= 4,
    3000,
    () => JSON.stringify(got.map((e) => e.text)),
  );
  await sleep(100);
  assert.equal(
    got.map((e) => e.text),
    ['line 1', 'line 2', 'line 3', 'line 4'],
  );
  assert.equal(
    got.map((e) => e.source),
    [
      tmp.path('CMGHttpHandler.log'),
      tmp.path('CMGHttpHandler.log'),
      existing,
      tmp.path('CMGHttpHandler.log'),
    ],
  );
});

test('a followed log that does not exist yet is picked up when it does', async () => {
  const path = tmp.path('CMGSetup.log');
  const got = follow([{ path, offset: 0 }]);
  follower?.start();
  await sleep(60);
  writeFileSync(path, line('line 1'));
  await waitFor(
    () => got.length >= 1,
    3000,
    () => JSON.stringify(got.map((e) => e.text)),
  );
  assert.equal(
    got.map((e) => e.text),
    ['line 1'],
  );
});

test.run();
