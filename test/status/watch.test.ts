import { Chalk } from 'chalk';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLEAR_SCREEN, SEPARATOR, sleep, watchFrame, watchLoop } from '../../src/status/watch.js';

test('watchLoop: draws each round, waits the rest of the interval, stops on abort with the last result', async () => {
  const stop = new AbortController();
  let now = 1000;
  const waits: number[] = [];
  const drawn: [number, number][] = [];
  let n = 0;
  const last = await watchLoop({
    everyMs: 2000,
    signal: stop.signal,
    clock: () => now,
    collect: async () => {
      now += 300; // asking takes 300 ms
      return ++n;
    },
    draw: (result, round) => {
      drawn.push([result, round]);
      if (result === 3) stop.abort();
    },
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  });
  assert.equal(drawn, [
    [1, 0],
    [2, 1],
    [3, 2],
  ]);
  assert.equal(waits, [1700, 1700, 1700], 'start to start, not end to start');
  assert.is(last, 3);
});

test('watchLoop: what was being asked when stopped is not drawn', async () => {
  const stop = new AbortController();
  let draws = 0;
  const last = await watchLoop({
    everyMs: 10,
    signal: stop.signal,
    collect: async () => {
      stop.abort();
      return 1;
    },
    draw: () => {
      draws++;
    },
  });
  assert.is(draws, 0);
  assert.is(last, undefined);
});

test('watchLoop: a round slower than the interval starts the next one at once', async () => {
  const stop = new AbortController();
  let now = 0;
  const waits: number[] = [];
  await watchLoop({
    everyMs: 1000,
    signal: stop.signal,
    clock: () => now,
    collect: async () => {
      now += 2500;
      return 0;
    },
    draw: (_r, round) => {
      if (round === 1) stop.abort();
    },
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  assert.equal(waits, [0, 0]);
});

test('sleep: ends early when the signal aborts, at once when already aborted', async () => {
  const stop = new AbortController();
  const started = Date.now();
  setTimeout(() => stop.abort(), 20);
  await sleep(10_000, stop.signal);
  assert.ok(Date.now() - started < 2000);
  await sleep(10_000, stop.signal);
  assert.ok(Date.now() - started < 2000);
});

test('watchFrame: a terminal is cleared before each frame; elsewhere frames are separated by a line', () => {
  const paint = new Chalk({ level: 0 });
  const o = { paint, everySeconds: 2, now: Date.now() };
  const tty0 = watchFrame('VIEW\n', { ...o, tty: true, round: 0 });
  assert.ok(tty0.startsWith(CLEAR_SCREEN));
  assert.match(tty0, /cmg status at \d\d:\d\d:\d\d, every 2 s; Ctrl-C to stop\n\nVIEW\n$/);
  const file0 = watchFrame('VIEW\n', { ...o, tty: false, round: 0 });
  assert.not.match(file0, '\x1b');
  assert.ok(file0.startsWith('cmg status at'));
  const file1 = watchFrame('VIEW\n', { ...o, tty: false, round: 1 });
  assert.ok(file1.startsWith(`${SEPARATOR}\ncmg status at`));
});

test.run();
