import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ago, expiry, humanBytes, humanCount, humanDuration } from '../../src/status/format.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const DAY = 86_400_000;

test('humanDuration: seconds, then minutes, hours and days, two units at most', () => {
  assert.is(humanDuration(0), '0s');
  assert.is(humanDuration(59.9), '59s');
  assert.is(humanDuration(60), '1m 0s');
  assert.is(humanDuration(3599), '59m 59s');
  assert.is(humanDuration(3600), '1h 0m');
  assert.is(humanDuration(8040), '2h 14m');
  assert.is(humanDuration(86_400 * 3 + 3600 * 4 + 59), '3d 4h');
});

test('humanDuration: no value is a dash; negative counts as zero', () => {
  assert.is(humanDuration(null), '-');
  assert.is(humanDuration(undefined), '-');
  assert.is(humanDuration(Number.NaN), '-');
  assert.is(humanDuration(-5), '0s');
});

test('humanBytes: binary units, one decimal below 10, none above', () => {
  assert.is(humanBytes(0), '0 B');
  assert.is(humanBytes(1023), '1023 B');
  assert.is(humanBytes(1024), '1 KiB');
  assert.is(humanBytes(1536), '1.5 KiB');
  assert.is(humanBytes(10 * 1024 + 300), '10 KiB');
  assert.is(humanBytes(3_500_000), '3.3 MiB');
  assert.is(humanBytes(123_456_789), '118 MiB');
  assert.is(humanBytes(5 * 1024 ** 3), '5 GiB');
});

test('humanBytes: a value that would round up to 1024 of a unit is shown in the next one', () => {
  assert.is(humanBytes(1024 * 1024 - 10), '1 MiB');
  assert.is(humanBytes(1024 * 1023), '1023 KiB');
});

test('humanCount: thousands separators', () => {
  assert.is(humanCount(0), '0');
  assert.is(humanCount(999), '999');
  assert.is(humanCount(1000), '1,000');
  assert.is(humanCount(1_234_567), '1,234,567');
});

test('ago: the age of an ISO time; a future time is "just now"; not a time is shown as is', () => {
  assert.is(ago('2025-06-01T11:59:48Z', NOW), '12s ago');
  assert.is(ago('2025-06-01T09:45:00Z', NOW), '2h 15m ago');
  assert.is(ago('2025-06-01T12:00:05Z', NOW), 'just now');
  assert.is(ago('yesterday', NOW), 'yesterday');
});

test('expiry: ok from 30 days, a warning below, expired once past', () => {
  assert.equal(expiry(new Date(NOW + 212 * DAY).toISOString(), NOW), {
    level: 'ok',
    text: '2025-12-30 (in 212 days)',
  });
  assert.is(expiry(new Date(NOW + 30 * DAY).toISOString(), NOW).level, 'ok');
  assert.equal(expiry(new Date(NOW + 29 * DAY + 3600_000).toISOString(), NOW), {
    level: 'warn',
    text: '2025-06-30 (in 29 days)',
  });
  assert.equal(expiry(new Date(NOW + 20 * 3600_000 + 180_000).toISOString(), NOW), {
    level: 'warn',
    text: '2025-06-02 (in 20h 3m)',
  });
  assert.equal(expiry(new Date(NOW - 31 * DAY).toISOString(), NOW), {
    level: 'expired',
    text: '2025-05-01 (expired 31 days ago)',
  });
  assert.is(expiry(new Date(NOW).toISOString(), NOW).level, 'expired');
  assert.is(expiry('soon', NOW).level, 'warn');
});

test.run();
