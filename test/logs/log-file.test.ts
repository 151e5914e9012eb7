import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LogFile, rotatedName, WRITE_INTERVAL_MS } from '../../src/logs/log-file.js';
import { closeAllLogs, openLogger } from '../../src/logs/logger.js';

const CHILD = fileURLToPath(new URL('../fixtures/log-writer-child.ts', import.meta.url));
let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'cmg-log-'));
});
test.after.each(async () => {
  await closeAllLogs();
  rmSync(dir, { recursive: true, force: true });
});

const MESSAGE =
  /^<!\[LOG\[(.*)\]LOG\]!><time="[^"]+" date="[^"]+" component="([^"]+)" context="" type="\d" thread="\d+" file="[^"]*">$/;

/** Every line of a log file, checked to be whole CMTrace lines: a torn line fails here. */
function entries(path: string): { text: string; component: string }[] {
  const content = readFileSync(path, 'utf8');
  if (content === '') return [];
  assert.ok(content.endsWith('\n'), `${path} ends mid-line`);
  return content
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const m = MESSAGE.exec(line);
      assert.ok(m, `torn or malformed line in ${path}: ${line.slice(0, 120)}`);
      return { text: m[1]!, component: m[2]! };
    });
}

test('rotated name: .log becomes .lo_', () => {
  assert.is(rotatedName('/x/CMGService.log'), '/x/CMGService.lo_');
  assert.is(rotatedName('/x/custom.txt'), '/x/custom.txt.lo_');
});

test('append does not write synchronously; flush puts every line in the file', async () => {
  const log = openLogger(dir, 'A.log', 'A');
  for (let i = 0; i < 100; i++) log.info(`n${i}`);
  assert.is(statSync(join(dir, 'A.log')).size, 0, 'a line was written on the calling tick');
  await log.sink.flush();
  assert.equal(
    entries(join(dir, 'A.log')).map((e) => e.text),
    Array.from({ length: 100 }, (_, i) => `n${i}`),
  );
});

test('a busy log writes in batches at most every WRITE_INTERVAL_MS; a line after a quiet spell goes at once', async () => {
  const log = openLogger(dir, 'A.log', 'A');
  const file = join(dir, 'A.log');
  log.info('first');
  await new Promise((r) => setImmediate(r));
  assert.is(log.sink.writes, 1, 'a lone line waited for the interval');
  await log.sink.flush();
  // A line every millisecond or so, as a daemon under load logs them: one write each, without the interval.
  const lines = 100;
  const started = performance.now();
  for (let i = 0; i < lines; i++) {
    log.info(`n${i}`);
    await new Promise((r) => setTimeout(r, 1));
  }
  const spent = performance.now() - started;
  await log.sink.flush();
  // Node may fire a timer up to a millisecond early.
  const most = 2 + Math.ceil(spent / (WRITE_INTERVAL_MS - 1));
  assert.ok(log.sink.writes <= most, `${log.sink.writes} writes for ${lines} lines in ${spent} ms`);
  assert.equal(
    entries(file).map((e) => e.text),
    ['first', ...Array.from({ length: lines }, (_, i) => `n${i}`)],
  );
});

test('close() writes what waits for the interval at once', async () => {
  const log = openLogger(dir, 'A.log', 'A');
  log.info('first');
  await log.sink.flush();
  log.info('second');
  const closed = log.sink.close();
  assert.is(log.sink.writes, 2, 'close() left the line waiting for the interval');
  await closed;
  assert.equal(
    entries(join(dir, 'A.log')).map((e) => e.text),
    ['first', 'second'],
  );
});

test('an existing log is appended to, not truncated', async () => {
  const first = new LogFile(join(dir, 'B.log'));
  first.append(
    '<![LOG[old]LOG]!><time="00:00:00.000+000" date="01-01-2026" component="B" context="" type="1" thread="1" file="">\n',
  );
  await first.close();
  const log = openLogger(dir, 'B.log', 'B');
  log.info('new');
  await log.sink.flush();
  assert.equal(
    entries(join(dir, 'B.log')).map((e) => e.text),
    ['old', 'new'],
  );
});

test('rotation under load from concurrent writers: every line exactly once, no file over the limit', async () => {
  const maxBytes = 4096;
  const writers = 8;
  const perWriter = 2500;
  const loggers = Array.from({ length: writers }, (_, w) =>
    openLogger(dir, 'Load.log', `W${w}`, { maxBytes }),
  );
  const sink = loggers[0]!.sink;
  assert.is(loggers[7]!.sink, sink, 'loggers of one file share one sink');
  // Each rotation replaces the previous .lo_, so take a copy of every rotated file as it appears.
  const rotated: { text: string; component: string }[] = [];
  const sizes: number[] = [];
  sink.on('rotate', (path: string) => {
    sizes.push(statSync(path).size);
    rotated.push(...entries(path));
  });
  // Writers interleave across many event-loop turns, with uneven line lengths.
  await Promise.all(
    loggers.map(async (log, w) => {
      for (let i = 0; i < perWriter; i++) {
        log.info(`w${w} #${i} ${'x'.repeat((i * 7 + w) % 90)}`);
        if (i % (17 + w) === 0) await new Promise((r) => setImmediate(r));
      }
    }),
  );
  await sink.flush();
  const all = [...rotated, ...entries(join(dir, 'Load.log'))];
  sizes.push(statSync(join(dir, 'Load.log')).size);
  assert.ok(sizes.length > 100, `only ${sizes.length - 1} rotations`);
  assert.ok(Math.max(...sizes) <= maxBytes, `a file grew to ${Math.max(...sizes)} bytes`);
  assert.is(all.length, writers * perWriter);
  for (let w = 0; w < writers; w++) {
    const mine = all.filter((e) => e.component === `W${w}`).map((e) => Number(/#(\d+)/.exec(e.text)![1]));
    assert.equal(
      mine,
      Array.from({ length: perWriter }, (_, i) => i),
      `writer ${w}: lines lost, repeated or reordered`,
    );
  }
});

test('a single line longer than the limit still gets written, alone in a fresh file', async () => {
  const log = openLogger(dir, 'Big.log', 'Big', { maxBytes: 300 });
  log.info('small');
  log.info('y'.repeat(1000));
  log.info('after');
  await log.sink.flush();
  assert.equal(
    entries(rotatedName(join(dir, 'Big.log'))).map((e) => e.text),
    ['y'.repeat(1000)],
  );
  assert.equal(
    entries(join(dir, 'Big.log')).map((e) => e.text),
    ['after'],
  );
});

test('a log file removed from under the writer is started afresh at the next rotation', async () => {
  const log = openLogger(dir, 'Gone.log', 'Gone', { maxBytes: 400 });
  log.info('one');
  await log.sink.flush();
  rmSync(join(dir, 'Gone.log'));
  for (let i = 0; i < 10; i++) log.info(`after removal ${i}`);
  await log.sink.flush();
  const texts = entries(join(dir, 'Gone.log')).map((e) => e.text);
  assert.ok(texts.length > 0 && texts.at(-1) === 'after removal 9', texts.join('|'));
});

test('a line appended after close() reaches this log file, not the file that took its descriptor', async () => {
  const log = openLogger(dir, 'Late.log', 'Late');
  log.info('before close');
  await closeAllLogs();
  // The closed descriptor's number is free again: the next file opened takes it.
  const otherPath = join(dir, 'Other.txt');
  const other = openSync(otherPath, 'w');
  try {
    log.info('after close');
  } finally {
    closeSync(other);
  }
  assert.equal(
    entries(join(dir, 'Late.log')).map((e) => e.text),
    ['before close', 'after close'],
  );
  assert.is(readFileSync(otherPath).length, 0, 'the late line went into another file');
});

test('after close(), a line that cannot be written is reported and counted, not thrown', async () => {
  const log = openLogger(join(dir, 'sub'), 'Late.log', 'Late');
  const errors: NodeJS.ErrnoException[] = [];
  log.sink.on('error', (err: NodeJS.ErrnoException) => errors.push(err));
  await closeAllLogs();
  rmSync(join(dir, 'sub'), { recursive: true });
  log.info('nowhere to go');
  assert.equal(
    errors.map((e) => e.code),
    ['ENOENT'],
  );
  assert.is(log.sink.droppedLines, 1);
});

/** Rejects if `promise` has not settled after `ms`: a hang fails the test instead of the run. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

test('close() resolves promptly when writes fail while closing: error reported, lines counted', async () => {
  // Every write to /dev/full fails with ENOSPC, as on a full disk.
  symlinkSync('/dev/full', join(dir, 'Full.log'));
  const log = openLogger(dir, 'Full.log', 'Full');
  const errors: NodeJS.ErrnoException[] = [];
  log.sink.on('error', (err: NodeJS.ErrnoException) => errors.push(err));
  log.info('lost 1');
  log.info('lost 2');
  await within(log.sink.close(), 300, 'close()');
  assert.ok(errors.length > 0, 'the write error was not reported');
  assert.ok(
    errors.every((e) => e.code === 'ENOSPC'),
    errors.map((e) => e.code).join(),
  );
  assert.is(log.sink.droppedLines, 2);
});

test('close() resolves promptly when writes were already failing before it began', async () => {
  symlinkSync('/dev/full', join(dir, 'Full.log'));
  const log = openLogger(dir, 'Full.log', 'Full');
  const firstError = new Promise((resolve) => log.sink.once('error', resolve));
  log.info('lost 1');
  await within(firstError, 300, 'the first write error');
  log.info('lost 2');
  // No 'error' listener left: a failure while closing must not become an unhandled 'error' event.
  await within(log.sink.close(), 300, 'close()');
  assert.is(log.sink.droppedLines, 2);
});

test('a log truncated from outside (copytruncate) is continued at its real end, without a NUL hole', async () => {
  const path = join(dir, 'Trunc.log');
  const log = openLogger(dir, 'Trunc.log', 'Trunc');
  for (let i = 0; i < 50; i++) log.info(`before ${i}`);
  await log.sink.flush();
  truncateSync(path, 0);
  for (let i = 0; i < 3; i++) log.info(`after ${i}`);
  await log.sink.flush();
  assert.is(readFileSync(path).indexOf(0), -1, 'NUL bytes in the file');
  assert.equal(
    entries(path).map((e) => e.text),
    ['after 0', 'after 1', 'after 2'],
  );
});

function runChild(mode: 'exit' | 'sigterm'): Promise<{ code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('child did not finish within 20 s'));
    }, 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (mode === 'sigterm' && chunk.toString().includes('ready')) child.kill('SIGTERM');
    });
    child.on('exit', (code) => {
      clearTimeout(deadline);
      resolve({ code });
    });
  });
}

function checkChildLog(): number {
  const texts = entries(join(dir, 'Child.log')).map((e) => e.text);
  const last = texts.pop();
  const m = /^stopping after (\d+) lines$/.exec(last ?? '');
  assert.ok(m, `last line is not the stop line: ${last}`);
  const n = Number(m[1]);
  assert.equal(
    texts,
    Array.from({ length: n }, (_, i) => `line ${i + 1}`),
  );
  return n;
}

test('lines queued when the process calls process.exit() are flushed', async () => {
  const { code } = await runChild('exit');
  assert.is(code, 0);
  assert.is(checkChildLog(), 5000);
});

test('lines queued when SIGTERM arrives mid-stream are flushed, none lost or doubled', async () => {
  const { code } = await runChild('sigterm');
  assert.is(code, 0);
  assert.ok(checkChildLog() >= 2000);
});

test.run();
