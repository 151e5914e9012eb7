import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Backoff } from '../../src/connector/backoff.js';

function delays(b: Backoff, n: number): number[] {
  return Array.from({ length: n }, () => b.next());
}

test('with the lowest draw, delays are half the ceiling: base/2, then doubling up to max/2', () => {
  const b = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
  assert.equal(delays(b, 7), [50, 100, 200, 400, 500, 500, 500]);
});

test('with the highest draw, delays are the ceiling: base, then doubling up to max', () => {
  const b = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0.999 });
  assert.equal(delays(b, 7), [100, 200, 400, 800, 1000, 1000, 1000]);
});

test('a draw in between lands in between, rounded to whole milliseconds', () => {
  const b = new Backoff({ baseMs: 1000, maxMs: 30_000, random: () => 0.5 });
  assert.equal(delays(b, 7), [750, 1500, 3000, 6000, 12_000, 22_500, 22_500]);
  const odd = new Backoff({ baseMs: 3, maxMs: 100, random: () => 0 });
  assert.equal(delays(odd, 2), [2, 3], '1.5 rounds to 2');
});

test('the cap holds after very many failures (no overflow to Infinity or NaN)', () => {
  const b = new Backoff({ baseMs: 1000, maxMs: 60_000, random: () => 0.999 });
  const all = delays(b, 200);
  assert.is(all[199], 59_970);
  assert.is(
    all.every((d) => Number.isFinite(d) && d <= 60_000),
    true,
  );
});

test('reset() starts over; attempts counts the delays handed out since', () => {
  const b = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
  assert.is(b.attempts, 0);
  assert.equal(delays(b, 3), [50, 100, 200]);
  assert.is(b.attempts, 3);
  b.reset();
  assert.is(b.attempts, 0);
  assert.is(b.next(), 50);
  assert.is(b.attempts, 1);
  assert.is(b.next(), 100);
  assert.is(b.attempts, 2);
});

test('a base over the cap is capped from the first delay', () => {
  const b = new Backoff({ baseMs: 5000, maxMs: 2000, random: () => 0 });
  assert.equal(delays(b, 2), [1000, 1000]);
});

test('without an injected random, delays stay within [ceiling/2, ceiling]', () => {
  const b = new Backoff({ baseMs: 100, maxMs: 400 });
  const [a, c, d, e] = delays(b, 4);
  for (const [value, ceiling] of [
    [a, 100],
    [c, 200],
    [d, 400],
    [e, 400],
  ] as const) {
    assert.ok(value !== undefined && value >= ceiling / 2 && value <= ceiling, `${value} for ${ceiling}`);
  }
});

test.run();
