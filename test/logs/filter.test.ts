/** `cmg logs` filters (src/logs/filter.ts): each alone, combined, and --since/--until values. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SeverityName } from '../../src/logs/cmtrace-format.js';
import { type LogFilter, matches, parseWhen } from '../../src/logs/filter.js';
import type { ParsedEntry } from '../../src/logs/parse.js';

const e = (
  text: string,
  type: SeverityName,
  component: string,
  at: string | undefined,
  thread = '100',
): ParsedEntry => ({
  time: at === undefined ? undefined : new Date(at),
  type,
  component,
  thread,
  file: '',
  text,
  source: 'X.log',
  seq: 0,
});

const ENTRIES: ParsedEntry[] = [
  e('header without a time', 'info', '', undefined, ''),
  e('channel up: cp01', 'info', 'CMGService', '2026-11-29T01:00:00Z', '4242'),
  e('request failed: 503', 'error', 'CMGService', '2026-11-29T01:15:00Z', '4242'),
  e('request failed: 502 from mp01', 'error', 'CMGHttpHandler', '2026-11-29T01:30:00Z', '77'),
  e('heartbeat late by 3 s', 'warning', 'CMGService', '2026-11-29T02:00:00Z', '4242'),
  e('Request FAILED: proxy refused', 'error', 'CMGService', '2026-11-29T02:30:00Z', '4243'),
  e('certificate renews in 12 days', 'warning', 'CMGService', '2026-11-29T02:45:00Z', '4242'),
  e('request failed: timeout', 'error', 'SMS_CLOUD_PROXYCONNECTOR', '2026-11-29T03:00:00Z', '9'),
  e('request failed: reset', 'warning', 'CMGService', '2026-11-29T03:30:00Z', '4242'),
  e('retry after a failed attempt worked', 'info', 'CMGService', '2026-11-29T03:45:00Z', '4242'),
  e('request failed: 500', 'error', 'CMGService', '2026-11-29T04:00:00Z', '4242'),
];
const pick = (f: LogFilter) => ENTRIES.filter((x) => matches(x, f)).map((x) => x.text);

test('no filter passes everything', () => {
  assert.is(pick({}).length, ENTRIES.length);
});

test('type', () => {
  assert.equal(pick({ types: new Set<SeverityName>(['warning']) }), [
    'heartbeat late by 3 s',
    'certificate renews in 12 days',
    'request failed: reset',
  ]);
});

test('component: the entry compared lower-cased with the (lower-case) names given', () => {
  assert.equal(pick({ components: new Set(['sms_cloud_proxyconnector', 'cmghttphandler']) }), [
    'request failed: 502 from mp01',
    'request failed: timeout',
  ]);
});

test('thread', () => {
  assert.equal(pick({ threads: new Set(['4243', '77']) }), [
    'request failed: 502 from mp01',
    'Request FAILED: proxy refused',
  ]);
});

test('since and until are inclusive; an entry without a time passes neither', () => {
  assert.equal(pick({ since: new Date('2026-11-29T03:30:00Z') }), [
    'request failed: reset',
    'retry after a failed attempt worked',
    'request failed: 500',
  ]);
  assert.equal(pick({ until: new Date('2026-11-29T01:30:00Z') }), [
    'channel up: cp01',
    'request failed: 503',
    'request failed: 502 from mp01',
  ]);
  assert.equal(pick({ since: new Date('2026-11-29T02:00:00Z'), until: new Date('2026-11-29T02:30:00Z') }), [
    'heartbeat late by 3 s',
    'Request FAILED: proxy refused',
  ]);
});

test('grep on the text, with and without ignoring case', () => {
  assert.equal(pick({ grep: /FAILED/ }), ['Request FAILED: proxy refused']);
  assert.equal(pick({ grep: /failed: \d+/i }), [
    'request failed: 503',
    'request failed: 502 from mp01',
    'request failed: 500',
  ]);
  assert.equal(pick({ grep: /^header/ }), ['header without a time']);
});

test('combined: type + component + since + grep, each one cutting', () => {
  const f: LogFilter = {
    types: new Set<SeverityName>(['error', 'warning']),
    components: new Set(['cmgservice']),
    since: new Date('2026-11-29T02:15:00Z'),
    grep: /failed/i,
  };
  assert.equal(pick(f), ['Request FAILED: proxy refused', 'request failed: reset', 'request failed: 500']);
  // Without any one of them, something the others let through comes in.
  assert.equal(pick({ ...f, types: undefined }), [
    'Request FAILED: proxy refused',
    'request failed: reset',
    'retry after a failed attempt worked',
    'request failed: 500',
  ]);
  assert.equal(pick({ ...f, components: undefined }), [
    'Request FAILED: proxy refused',
    'request failed: timeout',
    'request failed: reset',
    'request failed: 500',
  ]);
  assert.equal(pick({ ...f, since: undefined }), [
    'request failed: 503',
    'Request FAILED: proxy refused',
    'request failed: reset',
    'request failed: 500',
  ]);
  assert.equal(pick({ ...f, grep: undefined }), [
    'Request FAILED: proxy refused',
    'certificate renews in 12 days',
    'request failed: reset',
    'request failed: 500',
  ]);
  // Narrower still.
  assert.equal(pick({ ...f, types: new Set<SeverityName>(['error']) }), [
    'Request FAILED: proxy refused',
    'request failed: 500',
  ]);
  assert.equal(pick({ ...f, threads: new Set(['4242']), until: new Date('2026-11-29T03:45:00Z') }), [
    'request failed: reset',
  ]);
});

const NOW = Date.parse('2026-11-29T12:00:00.000Z');
const when = (v: string) => parseWhen(v, NOW)?.toISOString();

test('parseWhen: durations back from now', () => {
  assert.is(when('90s'), '2026-11-29T11:58:30.000Z');
  assert.is(when('15m'), '2026-11-29T11:45:00.000Z');
  assert.is(when('2h'), '2026-11-29T10:00:00.000Z');
  assert.is(when('1d'), '2026-11-28T12:00:00.000Z');
  assert.is(when('1w'), '2026-11-22T12:00:00.000Z');
  assert.is(when('1.5h'), '2026-11-29T10:30:00.000Z');
  assert.is(when('0m'), '2026-11-29T12:00:00.000Z');
  assert.is(when('15M'), '2026-11-29T11:45:00.000Z');
  assert.is(when(' 15m '), '2026-11-29T11:45:00.000Z');
});

test('parseWhen: timestamps (ISO with a zone, and local time without one)', () => {
  assert.is(when('2026-11-29T03:00:00Z'), '2026-11-29T03:00:00.000Z');
  assert.is(when('2026-11-29T03:00:00.250Z'), '2026-11-29T03:00:00.250Z');
  assert.is(when('2026-11-29T03:00:00+02:00'), '2026-11-29T01:00:00.000Z');
  assert.is(when('2026-11-29T03:00'), new Date(2026, 10, 29, 3, 0).toISOString());
  assert.is(when('2026-11-29 03:00'), new Date(2026, 10, 29, 3, 0).toISOString());
  assert.is(when('2026-11-29 03:00:15'), new Date(2026, 10, 29, 3, 0, 15).toISOString());
});

test('parseWhen: values that are neither are undefined', () => {
  for (const v of [
    '',
    ' ',
    'yesterday',
    '15x',
    '15min',
    '-5m',
    'm',
    '1y',
    '5 m',
    '1h ago',
    '2026-13-45',
    'now',
  ]) {
    assert.is(parseWhen(v, NOW), undefined, JSON.stringify(v));
  }
});

test('parseWhen: a bare number (a duration without its unit) is not taken for a year or a month', () => {
  // Date.parse reads "5" as 2001-05-01 and "50" as 1950: --since 5 would silently show everything.
  for (const v of ['1', '5', '12', '50', '90']) assert.is(parseWhen(v, NOW), undefined, JSON.stringify(v));
});

test.run();
