import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DaemonConfig } from '../../src/config/kind.js';
import { exitCodeFor, UsageError } from '../../src/errors.js';
import {
  adminSourceOf,
  parseAdminUrl,
  parseSeconds,
  resolveSources,
  withOptionalValue,
} from '../../src/status/sources.js';

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, UsageError);
    assert.is(exitCodeFor(err), 2);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

test('parseAdminUrl: a full URL is kept, without a trailing slash', () => {
  assert.is(parseAdminUrl('http://127.0.0.1:9443', 'gateway'), 'http://127.0.0.1:9443');
  assert.is(parseAdminUrl('http://127.0.0.1:9443/', 'gateway'), 'http://127.0.0.1:9443');
  assert.is(parseAdminUrl(' https://gw1.corp:8000/admin/ ', 'gateway'), 'https://gw1.corp:8000/admin');
  assert.is(parseAdminUrl('http://[::1]:9444', 'connector'), 'http://[::1]:9444');
});

test('parseAdminUrl: host:port means http; a host alone gets the default admin port of its kind', () => {
  assert.is(parseAdminUrl('127.0.0.1:9555', 'gateway'), 'http://127.0.0.1:9555');
  assert.is(parseAdminUrl('gw1.corp', 'gateway'), 'http://gw1.corp:9443');
  assert.is(parseAdminUrl('cp01.corp', 'connector'), 'http://cp01.corp:9444');
  assert.is(parseAdminUrl('[::1]:9000', 'connector'), 'http://[::1]:9000');
});

test('parseAdminUrl: a bare port is on loopback; a pasted admin path is dropped', () => {
  assert.is(parseAdminUrl('9443', 'gateway'), 'http://127.0.0.1:9443');
  assert.is(parseAdminUrl('http://127.0.0.1:9443/status', 'gateway'), 'http://127.0.0.1:9443');
  assert.is(parseAdminUrl('127.0.0.1:9444/readyz', 'connector'), 'http://127.0.0.1:9444');
});

test('parseAdminUrl: not a URL, or another scheme, is a usage error naming the flag', () => {
  assert.match(
    usageError(() => parseAdminUrl('a b', 'gateway')).message,
    '--gateway "a b" is not an admin URL',
  );
  assert.match(usageError(() => parseAdminUrl('http://', 'connector')).message, '--connector');
  assert.match(
    usageError(() => parseAdminUrl('ftp://127.0.0.1:9443', 'gateway')).message,
    'the admin endpoint speaks http, not ftp',
  );
});

function loaded(kind: 'gateway' | 'connector', host: string, port: number): DaemonConfig {
  return {
    kind,
    config: { source: `/etc/cmg/${kind}.json`, admin: { host, port } },
  } as unknown as DaemonConfig;
}

test('adminSourceOf: the admin address of a config; a wildcard address is reached on loopback', () => {
  assert.equal(adminSourceOf(loaded('gateway', '127.0.0.1', 9443)), {
    url: 'http://127.0.0.1:9443',
    kind: 'gateway',
    origin: 'config',
  });
  assert.is(adminSourceOf(loaded('gateway', '0.0.0.0', 9000)).url, 'http://127.0.0.1:9000');
  assert.is(adminSourceOf(loaded('connector', '::', 9444)).url, 'http://127.0.0.1:9444');
  assert.is(adminSourceOf(loaded('connector', '::1', 9444)).url, 'http://[::1]:9444');
  assert.is(adminSourceOf(loaded('connector', 'cp01.corp', 9444)).kind, 'connector');
});

test('adminSourceOf: port 0 is a usage error that says to pass the URL printed at start', () => {
  const err = usageError(() => adminSourceOf(loaded('connector', '127.0.0.1', 0)));
  assert.is(err.code, 'CMG_STATUS_ADMIN_PORT_UNKNOWN');
  assert.match(err.message, '/etc/cmg/connector.json: admin.port is 0');
  assert.match(err.hint ?? '', 'printed at start');
  assert.match(err.hint ?? '', '--connector URL');
});

test('resolveSources: nothing given means the two default addresses, marked as defaults', () => {
  assert.equal(resolveSources({}), [
    { url: 'http://127.0.0.1:9443', kind: 'gateway', origin: 'default' },
    { url: 'http://127.0.0.1:9444', kind: 'connector', origin: 'default' },
  ]);
});

test('resolveSources: gateways first, then connection points, each in the order given, each URL once', () => {
  const sources = resolveSources({
    gateway: ['127.0.0.1:9443', 'http://127.0.0.1:9443/'],
    connector: ['127.0.0.1:9444'],
    configs: [
      { url: 'http://127.0.0.1:9444', kind: 'connector', origin: 'config' },
      adminSourceOf(loaded('gateway', '0.0.0.0', 9500)),
    ],
  });
  assert.equal(
    sources.map((s) => [s.url, s.kind, s.origin]),
    [
      ['http://127.0.0.1:9443', 'gateway', 'url'],
      ['http://127.0.0.1:9500', 'gateway', 'config'],
      ['http://127.0.0.1:9444', 'connector', 'url'],
    ],
  );
});

test('parseSeconds: positive numbers, decimals allowed; anything else is a usage error', () => {
  assert.is(parseSeconds('--timeout', '3'), 3);
  assert.is(parseSeconds('--watch', '0.5'), 0.5);
  for (const bad of ['0', '-1', 'abc', '', 'Infinity']) {
    assert.match(usageError(() => parseSeconds('--watch', bad)).message, '--watch');
  }
});

test('withOptionalValue: --watch alone (last, or before a flag) gets the default; a value is kept', () => {
  assert.equal(withOptionalValue(['--watch'], '--watch', '2'), ['--watch=2']);
  assert.equal(withOptionalValue(['--watch', '--gateway', 'x'], '--watch', '2'), [
    '--watch=2',
    '--gateway',
    'x',
  ]);
  assert.equal(withOptionalValue(['--watch', '5'], '--watch', '2'), ['--watch', '5']);
  assert.equal(withOptionalValue(['--watch=7'], '--watch', '2'), ['--watch=7']);
  assert.equal(withOptionalValue(['--json'], '--watch', '2'), ['--json']);
  assert.equal(withOptionalValue(['--', '--watch'], '--watch', '2'), ['--', '--watch']);
});

test.run();
